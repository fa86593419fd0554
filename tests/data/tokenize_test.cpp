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
