// decode(encode(x)) == x for any bytes, and encode() behaves the same on every thread.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "text_test_support.h"

namespace structlm::text {
namespace {

using testing::gpt2;

void expect_round_trip(const Tokenizer& tok, const std::string& text) {
  const std::vector<TokenId> ids = tok.encode(text);
  ASSERT_EQ(tok.decode(ids), text) << "text of " << text.size() << " bytes";
  for (TokenId id : ids) ASSERT_LT(id, tok.vocab_size());
}

TEST(RoundTrip, SpecialShapes) {
  const std::vector<std::string> texts = {
      "", " ", "\n", "   \n\n\t  \r\n", std::string(5000, ' '), std::string(3000, '\n') + "x",
      "emoji 😀👍🏽👨‍👩‍👧‍👦🇺🇸", "日本語のテキスト中文文本한국어", "<|endoftext|>",
      std::string("nul\0inside", 10), "\xff\xfe\xfd", "caf\xc3", "\xe4\xb8 split", "\xed\xa0\x80",
      "\xc0\x80 overlong", "\xf4\x90\x80\x80 too big", "ok \x80 cont"};
  for (const std::string& t : texts) expect_round_trip(gpt2(), t);
  EXPECT_TRUE(gpt2().encode("").empty());
}

TEST(RoundTrip, RandomBytes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 300; ++i) {
    std::string text(std::uniform_int_distribution<int>(0, 400)(rng), '\0');
    for (char& c : text) c = char(std::uniform_int_distribution<int>(0, 255)(rng));
    expect_round_trip(gpt2(), text);
  }
}

// Mostly valid UTF-8 with a few broken sequences: the regex must resume right after each.
TEST(RoundTrip, MostlyValidWithInvalidBytes) {
  std::mt19937 rng(99);
  const std::vector<std::string> parts = {"the ", "cat's", " 42", "日本", "😀", "  ", "\n", ",",
                                          "\xff", "\xe4\xb8", "\x80", "\xc3"};
  for (int i = 0; i < 300; ++i) {
    std::string text;
    for (int k = std::uniform_int_distribution<int>(0, 60)(rng); k > 0; --k)
      text += parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(rng)];
    expect_round_trip(gpt2(), text);
  }
}

TEST(RoundTrip, InvalidBytesDoNotChangeTheValidTextAroundThem) {
  // A lone invalid byte becomes a piece of its own; the words around it encode as usual.
  const auto& tok = gpt2();
  std::vector<TokenId> left = tok.encode("hello"), right = tok.encode(" world");
  std::vector<TokenId> ids = tok.encode("hello\xff world");
  ASSERT_EQ(ids.size(), left.size() + 1 + right.size());
  EXPECT_EQ(std::vector<TokenId>(ids.begin(), ids.begin() + left.size()), left);
  EXPECT_EQ(tok.token_bytes(ids[left.size()]), "\xff");
  EXPECT_EQ(std::vector<TokenId>(ids.end() - right.size(), ids.end()), right);
}

// Long single pieces (no spaces in CJK text, long runs of whitespace or of one letter) must
// stay fast: GPT-2's literal algorithm is quadratic in the piece length.
TEST(RoundTrip, LongPieces) {
  std::string cjk;
  for (int i = 0; i < 20000; ++i) cjk += "日本語中文";
  expect_round_trip(gpt2(), cjk);
  expect_round_trip(gpt2(), std::string(1 << 20, ' '));
  expect_round_trip(gpt2(), std::string(200000, 'a'));
  expect_round_trip(gpt2(), std::string(1 << 20, ' ') + "x");
}

TEST(RoundTrip, SameIdsOnEveryThread) {
  const std::vector<std::string> texts = testing::brown_texts(8);
  std::vector<std::vector<TokenId>> expected;
  for (const auto& t : texts) expected.push_back(gpt2().encode(t));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 3; ++rep)
        for (std::size_t i = 0; i < texts.size(); ++i)
          if (gpt2().encode(texts[(i + k) % texts.size()]) != expected[(i + k) % texts.size()])
            ++mismatches[k];
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(Decode, RejectsUnknownIds) {
  EXPECT_THROW(gpt2().decode({50257}), Error);
  EXPECT_THROW(gpt2().token_bytes(1u << 31), Error);
  EXPECT_THROW(Tokenizer().encode("x"), Error);
}

}  // namespace
}  // namespace structlm::text
