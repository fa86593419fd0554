// tokenize_to_shard with a stand-in encoder (one token per byte): EOT before every document,
// order independent of the thread count, byte counts, and errors from the encoder propagated.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/error.h"
#include "core/io.h"
#include "data/shard.h"
#include "data/tokenize.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::TempDir;

namespace {

constexpr std::uint32_t kEot = 256;

std::vector<std::uint32_t> bytes_encoder(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (unsigned char ch : s) out.push_back(ch);
  return out;
}

std::vector<Document> some_docs(int n) {
  std::vector<Document> docs;
  for (int i = 0; i < n; ++i) docs.push_back({"d" + std::to_string(i), std::string(1 + (i * 37) % 300, 'a' + i % 26)});
  return docs;
}

std::vector<std::uint32_t> all_tokens(const std::string& path) {
  Shard s(path);
  std::vector<std::uint32_t> t(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) t[i] = s[i];
  return t;
}

}  // namespace

TEST(Tokenize, EotBeforeEachDocumentInOrder) {
  TempDir tmp;
  std::vector<Document> docs = {{"a", "hi"}, {"b", ""}, {"c", "\xc3\xa9!"}};
  ShardStats st = tokenize_to_shard(docs, bytes_encoder, kEot, 257, tmp / "t.bin", 2);
  EXPECT_EQ(st.bytes, 5u);
  EXPECT_EQ(st.tokens, 8u);
  EXPECT_EQ(all_tokens(tmp / "t.bin"),
            (std::vector<std::uint32_t>{kEot, 'h', 'i', kEot, kEot, 0xc3, 0xa9, '!'}));
}

TEST(Tokenize, OutputDoesNotDependOnThreadCount) {
  TempDir tmp;
  auto docs = some_docs(500);
  tokenize_to_shard(docs, bytes_encoder, kEot, 257, tmp / "1.bin", 1);
  for (int threads : {2, 3, 8}) {
    std::string path = tmp / (std::to_string(threads) + ".bin");
    tokenize_to_shard(docs, bytes_encoder, kEot, 257, path, threads);
    EXPECT_EQ(all_tokens(path), all_tokens(tmp / "1.bin")) << threads << " threads";
  }
}

TEST(Tokenize, EncoderErrorsPropagateAndWriteNothing) {
  TempDir tmp;
  auto docs = some_docs(100);
  auto failing = [](std::string_view s) -> std::vector<std::uint32_t> {
    if (s.size() == 1 + (50 * 37) % 300) throw Error("encoder: bad document");
    return bytes_encoder(s);
  };
  EXPECT_THROW(tokenize_to_shard(docs, failing, kEot, 257, tmp / "x.bin", 2), Error);
  EXPECT_FALSE(file_exists(tmp / "x.bin"));
}

// Streamed from a split's JSONL file in small batches, the shard is the one made from the
// documents in memory; an encoder error mid-stream leaves no shard and no temp file behind.
TEST(Tokenize, StreamedFromJsonlInBatchesGivesTheSameShard) {
  TempDir tmp;
  SplitCorpus s;
  s.name = "t";
  s.train = some_docs(200);
  s.val = some_docs(3);
  s.test = some_docs(3);
  write_split(tmp / "split", s, json::object());
  const auto whole = tokenize_to_shard(s.train, bytes_encoder, kEot, 257, tmp / "whole.bin", 2);
  const auto streamed =
      tokenize_jsonl_to_shard(tmp / "split/train.jsonl", bytes_encoder, kEot, 257, tmp / "streamed.bin", 2, "", 1000);
  EXPECT_EQ(streamed.tokens, whole.tokens);
  EXPECT_EQ(streamed.bytes, whole.bytes);
  EXPECT_EQ(read_file(tmp / "streamed.bin"), read_file(tmp / "whole.bin"));

  int calls = 0;
  EncodeFn failing = [&](std::string_view t) {
    if (++calls == 150) throw Error("encoder: bad document");
    return bytes_encoder(t);
  };
  EXPECT_THROW(tokenize_jsonl_to_shard(tmp / "split/train.jsonl", failing, kEot, 257, tmp / "failed.bin", 1, "", 1000),
               Error);
  EXPECT_FALSE(file_exists(tmp / "failed.bin"));
  EXPECT_EQ(list_files(tmp.path()).size(), 2u);  // whole.bin, streamed.bin: no temp file left
}
