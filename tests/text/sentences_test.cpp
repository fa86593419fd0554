// The sentence and word rules of text/sentences.h, against hand-split examples.
#include <gtest/gtest.h>

#include "text/sentences.h"

namespace structlm::text {
namespace {

using Strings = std::vector<std::string>;

TEST(Sentences, SplitsAtTerminatorsBeforeANonLowercaseStart) {
  EXPECT_EQ(split_sentences("The dog ran. A cat sat!  Why? \"Because.\" Then 3 more."),
            (Strings{"The dog ran.", "A cat sat!", "Why?", "\"Because.\"", "Then 3 more."}));
  // Lowercase after the period, no space after it, and "..." inside a sentence: no split.
  EXPECT_EQ(split_sentences("It cost 3.5 dollars... and more. e.g. this"),
            (Strings{"It cost 3.5 dollars... and more. e.g. this"}));
}

TEST(Sentences, AbbreviationsAndInitialsDoNotEndASentence) {
  EXPECT_EQ(split_sentences("Mr. Smith met Dr. Jones. J. F. Kennedy came to the U.S. Army base. End"),
            (Strings{"Mr. Smith met Dr. Jones.", "J. F. Kennedy came to the U.S. Army base.", "End"}));
  // "Jones." is not an abbreviation, and "?!" is a run, not a single dot.
  EXPECT_EQ(split_sentences("Ask Dr.?! No."), (Strings{"Ask Dr.?!", "No."}));
}

TEST(Sentences, BlankLinesEndSentencesAndSingleNewlinesDoNot) {
  EXPECT_EQ(split_sentences("  a heading\n \n\nsecond line\nsame sentence \n"),
            (Strings{"a heading", "second line\nsame sentence"}));
  EXPECT_TRUE(split_sentences(" \n\n \t").empty());
}

TEST(Words, LowercasedWhitespaceSplitWithEdgePunctuationStripped) {
  EXPECT_EQ(words("\"Don't,\" she said -- (The U.S. well-known) ... END!"),
            (Strings{"don't", "she", "said", "the", "u.s", "well-known", "end"}));
  EXPECT_EQ(words("\u201cQuoted\u201d \u2014 w\u00f6rd\u2026"), (Strings{"quoted", "w\u00f6rd"}));
  EXPECT_TRUE(words(" -- . ! ").empty());
}

TEST(Words, Utf8Validity) {
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("caf\xe9"));         // Latin-1 é
  EXPECT_FALSE(valid_utf8("\xe2\x80"));        // truncated
  EXPECT_FALSE(valid_utf8("a\x80"));           // lone continuation byte
}

}  // namespace
}  // namespace structlm::text
