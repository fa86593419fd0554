// link-grammar's parses as this project reads them: words without walls and subscripts, their
// byte spans, and the links, checked against the output of Debian's `link-parser` command
// (link-grammar 5.12, English dictionary 5.11) for the same sentences, written out by hand here.
#include <gtest/gtest.h>

#include <clocale>

#include "support/temp_dir.h"
#include "text/link_grammar.h"

namespace structlm::text {
namespace {

struct L {
  int left, right;
  std::string label;
};

void expect_links(const LinkedSentence& s, const std::vector<L>& want) {
  ASSERT_EQ(s.links.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(s.links[k].left, want[k].left) << "link " << k;
    EXPECT_EQ(s.links[k].right, want[k].right) << "link " << k;
    EXPECT_EQ(s.links[k].label, want[k].label) << "link " << k;
  }
}

std::vector<std::string> texts(const LinkedSentence& s) {
  std::vector<std::string> out;
  for (const auto& w : s.words) out.push_back(w.text);
  return out;
}

LinkParser& parser() {
  static LinkParser p;
  return p;
}

TEST(LinkGrammar, ParsesAHandCheckedSentence) {
  // `link-parser` with !links prints, for linkage 1 of 6 (walls are LEFT-WALL and RIGHT-WALL):
  //   LEFT-WALL Xp .     LEFT-WALL WV chased.v-d   LEFT-WALL Wd dog.n   dog.n Ss*s chased.v-d
  //   the Ds**c dog.n    chased.v-d MVp in.r       chased.v-d Os cat.n  cat.n Mp in.r
  //   a Ds**c cat.n      in.r Js garden.n          the Ds**c garden.n   . RW RIGHT-WALL
  // Without the walls, words numbered from 0 (The=0 dog=1 chased=2 a=3 cat=4 in=5 the=6 garden=7 .=8):
  LinkedSentence s = parser().parse("The dog chased a cat in the garden.");
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.null_count, 0);
  EXPECT_EQ(texts(s), (std::vector<std::string>{"The", "dog", "chased", "a", "cat", "in", "the", "garden", "."}));
  expect_links(s, {{1, 2, "Ss*s"}, {0, 1, "Ds**c"}, {2, 5, "MVp"}, {2, 4, "Os"}, {4, 5, "Mp"},
                   {3, 4, "Ds**c"}, {5, 7, "Js"}, {6, 7, "Ds**c"}});
  // "The" is "the" in link-grammar's output; the word keeps the sentence's own bytes.
  EXPECT_EQ(s.words[0].begin, 0);
  EXPECT_EQ(s.words[0].end, 3);
  EXPECT_EQ(s.words[8].begin, 34);
  EXPECT_EQ(s.words[8].end, 35);
}

TEST(LinkGrammar, SplitWordsContractionsAndPunctuationGetTheirSpans) {
  // link-parser: I.p don't think.v it 's.v ready.a , Mr..x Smith.m 's.p dog.n said.q-d .
  // "it's" and "Smith's" are split in two, "don't" is one word, "Mr." keeps its period.
  const std::string text = "I don't think it's ready, Mr. Smith's dog said.";
  LinkedSentence s = parser().parse(text);
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(texts(s), (std::vector<std::string>{"I", "don't", "think", "it", "'s", "ready", ",", "Mr.", "Smith",
                                                "'s", "dog", "said", "."}));
  const std::vector<std::pair<long long, long long>> spans = {{0, 1},   {2, 7},   {8, 13},  {14, 16}, {16, 18},
                                                              {19, 24}, {24, 25}, {26, 29}, {30, 35}, {35, 37},
                                                              {38, 41}, {42, 46}, {46, 47}};
  ASSERT_EQ(s.words.size(), spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    EXPECT_EQ(s.words[i].begin, spans[i].first) << s.words[i].text;
    EXPECT_EQ(s.words[i].end, spans[i].second) << s.words[i].text;
  }
  // Links (LEFT-WALL's Xp, CPx, WV, Wd and RIGHT-WALL's RW dropped), as link-parser lists them:
  expect_links(s, {{0, 1, "Sp*i"}, {1, 2, "I*d"}, {2, 4, "CV"}, {2, 3, "Ce"}, {3, 4, "Ss"}, {4, 5, "Pa"},
                   {6, 11, "Xd"}, {10, 11, "Ss*s"}, {9, 10, "Ds**c"}, {8, 9, "YS"}, {7, 8, "G"}});
}

TEST(LinkGrammar, UnlinkedWordsAreKeptWhenNullsAreAllowed) {
  // link-parser: "[the] [the] the dog.n dog.n cat.n" with 2 null links; the two first "the" are unlinked.
  LinkedSentence s = parser().parse("the the the dog dog cat");
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.null_count, 2);
  EXPECT_EQ(texts(s), (std::vector<std::string>{"the", "the", "the", "dog", "dog", "cat"}));
  EXPECT_EQ(s.words[1].begin, 4);
  expect_links(s, {{2, 5, "Ds"}, {3, 5, "AN"}, {4, 5, "AN"}});
}

TEST(LinkGrammar, NoParse) {
  LinkParserOptions strict;
  strict.max_null_count = 0;
  LinkParser p(strict);
  LinkedSentence s = p.parse("the the the dog dog cat");  // needs 2 unlinked words
  EXPECT_FALSE(s.parsed);
  EXPECT_TRUE(s.words.empty());
  EXPECT_TRUE(s.links.empty());
  EXPECT_EQ(s.text, "the the the dog dog cat");
  // The library aborts on an empty sentence and drops undecodable words: neither reaches it.
  EXPECT_FALSE(p.parse("").parsed);
  EXPECT_FALSE(p.parse(" \n ").parsed);
  EXPECT_FALSE(p.parse("caf\xe9 owners are here.").parsed);
}

TEST(LinkGrammar, UnknownWordsAreParsedAsWritten) {
  // Without spell guessing, "blarg" stays "blarg" (link-parser: blarg[?].n), not "blare".
  LinkedSentence s = parser().parse("Xyzzq florbs the blarg quickly!");
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(texts(s), (std::vector<std::string>{"Xyzzq", "florbs", "the", "blarg", "quickly", "!"}));
}

TEST(LinkGrammar, TheProgramsLocaleIsLeftAlone) {
  std::string before = std::setlocale(LC_ALL, nullptr);
  LinkParser p;
  EXPECT_EQ(std::string(std::setlocale(LC_ALL, nullptr)), before);
  EXPECT_TRUE(p.parse("The dog chased a cat in the garden.").parsed);
}

TEST(LinkGrammar, MissingDictionaryIsAnError) {
  LinkParserOptions o;
  o.dictionary = "/nonexistent/dict";
  std::string e = test_util::error_of([&] { LinkParser p(o); });
  EXPECT_EQ(e.rfind("link-grammar dictionary '/nonexistent/dict': cannot be opened", 0), 0u) << e;
}

TEST(LinkGrammarWords, SubscriptsAndAnnotationsAreStripped) {
  EXPECT_EQ(strip_link_grammar_word("dog.n"), "dog");
  EXPECT_EQ(strip_link_grammar_word("chased.v-d"), "chased");
  EXPECT_EQ(strip_link_grammar_word("Mr..x"), "Mr.");
  EXPECT_EQ(strip_link_grammar_word("[the]"), "the");
  EXPECT_EQ(strip_link_grammar_word("blarg[?].n"), "blarg");
  EXPECT_EQ(strip_link_grammar_word("3.5[!<NUMBERS>]"), "3.5");
  EXPECT_EQ(strip_link_grammar_word("....y"), "...");
  EXPECT_EQ(strip_link_grammar_word("."), ".");
  EXPECT_EQ(strip_link_grammar_word("e.g."), "e.g.");
  EXPECT_EQ(strip_link_grammar_word("'s.p"), "'s");
  EXPECT_EQ(strip_link_grammar_word("U.S"), "U.S");  // an uppercase tail is no subscript
}

TEST(LinkGrammarWords, ForwardSearchWhenTheParserGivesNoUsableSpan) {
  // Positions: We 0-2, ca 3-5, n't 5-8, stop 9-13, "," 13-14, he 15-17, said 18-22, "." 22-23.
  const std::string text = "We can't stop, he said.";
  std::vector<LinkedWord> w;
  for (const char* t : {"We", "ca", "n't", "stop", ",", "cannot", "he", "said", "."}) w.push_back({t, -1, -1});
  // Word 1's span is empty and word 3's overlaps word 2: both fall back to the search; word 4 has a good one.
  std::vector<std::pair<std::size_t, std::size_t>> spans = {{0, 2}, {3, 3}, {5, 8}, {6, 10}, {13, 14}};
  locate_words(text, w, spans);
  const std::vector<std::pair<long long, long long>> want = {{0, 2},  {3, 5},  {5, 8},   {9, 13}, {13, 14},
                                                             {-1, -1}, {15, 17}, {18, 22}, {22, 23}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(w[i].begin, want[i].first) << i;
    EXPECT_EQ(w[i].end, want[i].second) << i;
  }
  EXPECT_FALSE(w[5].located());
  EXPECT_EQ(w[5].text, "cannot");  // not in the sentence: kept as link-grammar wrote it
}

}  // namespace
}  // namespace structlm::text
