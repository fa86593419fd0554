// Word links carried onto tokens (text/link_tokens.h), on handmade tokenizations and on GPT-2's
// real one; every expected partner list is worked out by hand in the comments.
#include <gtest/gtest.h>

#include "text/link_tokens.h"
#include "text_test_support.h"

namespace structlm::text {
namespace {

// "The dog chased a cat in the garden." with link-grammar's links (link_grammar_test.cpp):
// words The=0 dog=1 chased=2 a=3 cat=4 in=5 the=6 garden=7 .=8 starting at bytes
// 0, 4, 8, 15, 17, 21, 24, 28, 34.
LinkedSentence dog_sentence() {
  LinkedSentence s;
  s.text = "The dog chased a cat in the garden.";
  s.parsed = true;
  const std::vector<std::pair<const char*, long long>> w = {{"The", 0},  {"dog", 4}, {"chased", 8},
                                                            {"a", 15},   {"cat", 17}, {"in", 21},
                                                            {"the", 24}, {"garden", 28}, {".", 34}};
  for (auto [t, b] : w) s.words.push_back({t, b, b + static_cast<long long>(std::string(t).size())});
  s.links = {{1, 2, "Ss*s"}, {0, 1, "Ds**c"}, {2, 5, "MVp"}, {2, 4, "Os"},
             {4, 5, "Mp"},   {3, 4, "Ds**c"}, {5, 7, "Js"},  {6, 7, "Ds**c"}};
  return s;
}

std::vector<ByteSpan> spans_of(const std::vector<std::string>& pieces, std::size_t start = 0) {
  std::vector<ByteSpan> out;
  for (const auto& p : pieces) {
    out.emplace_back(start, start + p.size());
    start += p.size();
  }
  return out;
}

TEST(LinkTokens, OneTokenPerWord) {
  // Tokens = words: dog<-The, chased<-dog, cat<-{chased, a} keeps a (nearest), in<-{chased, cat}
  // keeps cat, garden<-{in, the} keeps the.
  auto spans = spans_of({"The", " dog", " chased", " a", " cat", " in", " the", " garden", "."});
  auto p = token_partners(dog_sentence(), spans);
  EXPECT_EQ(p, (std::vector<int>{-1, 0, 1, -1, 3, 4, -1, 6, -1}));
  EXPECT_EQ(partner_distances(p), (std::vector<int>{0, 1, 1, 0, 1, 1, 0, 1, 0}));
}

TEST(LinkTokens, WordsSplitIntoSeveralTokensUseTheirFirstToken) {
  //  0 "Th" 1 "e" 2 " do" 3 "g" 4 " chased" 5 " a" 6 " c" 7 "at" 8 " in" 9 " the" 10 " gar" 11 "den" 12 "."
  // First tokens: The 0, dog 2, chased 4, a 5, cat 6, in 8, the 9, garden 10, "." 12.
  // dog(2)<-The(0); chased(4)<-dog(2); cat(6)<-{chased 4, a 5}: 5; in(8)<-{chased 4, cat 6}: 6;
  // garden(10)<-{in 8, the 9}: 9. Non-first tokens (1, 3, 7, 11) get nothing.
  auto spans = spans_of({"Th", "e", " do", "g", " chased", " a", " c", "at", " in", " the", " gar", "den", "."});
  auto p = token_partners(dog_sentence(), spans);
  EXPECT_EQ(p, (std::vector<int>{-1, -1, 0, -1, 2, -1, 5, -1, 6, -1, 9, -1, -1}));
  EXPECT_EQ(partner_distances(p), (std::vector<int>{0, 0, 2, 0, 2, 0, 1, 0, 2, 0, 1, 0, 0}));
}

TEST(LinkTokens, SentenceInsideALongerText) {
  // "Hello. " (7 bytes) before the sentence: the same partners, shifted by one token.
  auto spans = spans_of({"Hello", ".", " The", " dog", " chased", " a", " cat", " in", " the", " garden", "."});
  auto p = token_partners(dog_sentence(), spans, 7);
  EXPECT_EQ(p, (std::vector<int>{-1, -1, -1, 2, 3, -1, 5, 6, -1, 8, -1}));
}

TEST(LinkTokens, WordsSharingATokenAndUnlocatedWordsGiveNothing) {
  LinkedSentence s = dog_sentence();
  s.words[4].begin = s.words[4].end = -1;  // "cat" not located: its links (a-cat, chased-cat, cat-in) go
  // One token for "The dog": the dog<-The link joins a token to itself and is dropped.
  auto spans = spans_of({"The dog", " chased", " a", " cat", " in", " the", " garden", "."});
  // chased(1)<-dog(0); in(4)<-chased(1) only; garden(6)<-the(5).
  EXPECT_EQ(token_partners(s, spans), (std::vector<int>{-1, 0, -1, -1, 1, -1, 5, -1}));
  // Spans that stop early: words past them have no token.
  auto partial = spans_of({"The", " dog", " chased"});
  EXPECT_EQ(token_partners(dog_sentence(), partial), (std::vector<int>{-1, 0, 1}));
}

TEST(LinkTokens, RealGpt2Tokens) {
  const Tokenizer& tok = testing::gpt2();
  const std::string text = "I don't think it's ready, Mr. Smith's dog said.";
  auto ids = tok.encode(text);
  auto spans = token_spans(tok, ids);
  // GPT-2: "I" " don" "'t" " think" " it" "'s" " ready" "," " Mr" "." " Smith" "'s" " dog" " said" "."
  std::vector<std::string> pieces;
  for (auto id : ids) pieces.push_back(tok.token_bytes(id));
  ASSERT_EQ(pieces, (std::vector<std::string>{"I", " don", "'t", " think", " it", "'s", " ready", ",", " Mr", ".",
                                              " Smith", "'s", " dog", " said", "."}));
  EXPECT_EQ(spans, spans_of(pieces));
  EXPECT_EQ(spans.back().second, text.size());
  // The parse of link_grammar_test.cpp (words I don't think it 's ready , Mr. Smith 's dog said .):
  LinkParser parser;
  LinkedSentence s = parser.parse(text);
  ASSERT_TRUE(s.parsed);
  // First tokens: I 0, don't 1, think 3, it 4, 's 5, ready 6, "," 7, Mr. 8, Smith 10, 's 11, dog 12,
  // said 13, "." 14. Links: don't<-I, think<-don't, it<-think, 's<-{think, it}: it,
  // ready<-'s, said<-{",", dog}: dog, dog<-'s, 's<-Smith, Smith<-Mr.
  EXPECT_EQ(token_partners(s, spans), (std::vector<int>{-1, 0, -1, 1, 3, 4, 5, -1, -1, -1, 8, 10, 11, 12, -1}));
}

}  // namespace
}  // namespace structlm::text
