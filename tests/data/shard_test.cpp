// Token shards: llm.c's exact layout both ways, validation of damaged files, and batches that
// depend only on (seed, step).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "data/shard.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

std::vector<std::uint32_t> ramp(std::size_t n, std::uint32_t mod, std::uint32_t mul = 7919) {
  std::vector<std::uint32_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<std::uint32_t>((i * mul) % mod);
  return t;
}

std::string header_bytes(std::int32_t magic, std::int32_t version, std::int32_t count) {
  std::string h(1024, '\0');
  std::memcpy(&h[0], &magic, 4);
  std::memcpy(&h[4], &version, 4);
  std::memcpy(&h[8], &count, 4);
  return h;
}

}  // namespace

TEST(Shard, RoundTripUint16InLlmcLayout) {
  TempDir tmp;
  auto tokens = ramp(1000, 50257);
  write_shard(tmp / "a.bin", tokens, 50257);
  // The exact bytes llm.c's write_datafile produces for GPT-2: magic, version 1, count, zeros.
  std::string raw = read_file(tmp / "a.bin");
  ASSERT_EQ(raw.size(), 1024u + 2 * 1000);
  std::string expect = header_bytes(20240520, 1, 1000);
  for (auto t : tokens) {
    std::uint16_t v = static_cast<std::uint16_t>(t);
    expect.append(reinterpret_cast<const char*>(&v), 2);
  }
  EXPECT_EQ(raw, expect);

  Shard s(tmp / "a.bin");
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.bytes_per_token(), 2);
  for (std::size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(s[i], tokens[i]);
  std::vector<std::int64_t> out(10);
  s.read(990, 10, out.data());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], tokens[990 + i]);
  EXPECT_THROW(s.read(995, 10, out.data()), Error);
  EXPECT_THROW(s[1000], Error);
}

TEST(Shard, RoundTripUint32ForLargeVocabularies) {
  TempDir tmp;
  auto tokens = ramp(777, 128256, 104729);
  tokens[5] = 65536;  // needs more than 16 bits
  tokens[6] = 128255;
  write_shard(tmp / "b.bin", tokens, 128256);
  std::string raw = read_file(tmp / "b.bin");
  ASSERT_EQ(raw.size(), 1024u + 4 * 777);
  EXPECT_EQ(raw.substr(0, 1024), header_bytes(20240801, 7, 777));  // llm.c's "llama-3" header
  Shard s(tmp / "b.bin");
  EXPECT_EQ(s.bytes_per_token(), 4);
  for (std::size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(s[i], tokens[i]);
  // The boundary: a vocabulary of exactly 65536 still fits 16 bits.
  write_shard(tmp / "c.bin", {0, 65535}, 65536);
  EXPECT_EQ(Shard(tmp / "c.bin").bytes_per_token(), 2);
  EXPECT_EQ(Shard(tmp / "c.bin")[1], 65535u);
}

TEST(Shard, EmptyShardIsValid) {
  TempDir tmp;
  write_shard(tmp / "e.bin", {}, 100);
  EXPECT_EQ(Shard(tmp / "e.bin").size(), 0u);
}

TEST(Shard, TokenOutsideVocabularyIsAnError) {
  TempDir tmp;
  std::string msg = error_of([&] { write_shard(tmp / "x.bin", {1, 2, 300}, 256); });
  EXPECT_NE(msg.find("x.bin"), std::string::npos) << msg;
  EXPECT_FALSE(file_exists(tmp / "x.bin"));
}

TEST(Shard, MalformedFilesAreErrorsNamingFileAndField) {
  TempDir tmp;
  std::string ok16 = header_bytes(20240520, 1, 4) + std::string(8, '\1');
  const struct {
    const char* name;
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"empty.bin", "", "truncated header"},
      {"short.bin", ok16.substr(0, 1000), "truncated header"},
      {"magic.bin", header_bytes(12345, 1, 0), "'magic'"},
      {"version.bin", header_bytes(20240520, 7, 0), "'version'"},
      {"version32.bin", header_bytes(20240801, 1, 0), "'version'"},
      {"negative.bin", header_bytes(20240520, 1, -5), "'count'"},
      {"toolarge.bin", header_bytes(20240520, 1, 5) + std::string(8, '\1'), "'count'"},
      {"huge.bin", header_bytes(20240801, 7, 2147483647), "'count'"},
      {"trailing.bin", ok16 + "x", "'count'"},
  };
  for (const auto& c : cases) {
    write_file_atomic(tmp / c.name, c.bytes);
    std::string msg = error_of([&] { Shard s(tmp / c.name); });
    EXPECT_EQ(msg.rfind(tmp / c.name, 0), 0u) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
  }
  EXPECT_NE(error_of([&] { Shard s(tmp / "absent.bin"); }).find("absent.bin"), std::string::npos);
  write_file_atomic(tmp / "good.bin", ok16);
  EXPECT_EQ(Shard(tmp / "good.bin").size(), 4u);
}

TEST(TokenStream, ReadsAcrossShardBoundaries) {
  TempDir tmp;
  auto all = ramp(2500, 1000, 1);  // 0, 1, 2, ... 999, 0, 1, ...
  write_shard(tmp / "0.bin", {all.begin(), all.begin() + 1000}, 1000);
  write_shard(tmp / "1.bin", {}, 1000);
  write_shard(tmp / "2.bin", {all.begin() + 1000, all.end()}, 1000);
  TokenStream ts({tmp / "0.bin", tmp / "1.bin", tmp / "2.bin"});
  EXPECT_EQ(ts.size(), 2500u);
  std::vector<std::int64_t> out(2500);
  ts.read(0, 2500, out.data());
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(out[i], all[i]) << i;
  ts.read(995, 10, out.data());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], all[995 + i]);
  EXPECT_THROW(ts.read(2495, 6, out.data()), Error);
  EXPECT_THROW(TokenStream({}), Error);
}

TEST(TokenStream, RandomBatchDependsOnlyOnSeedAndStep) {
  TempDir tmp;
  write_shard(tmp / "a.bin", ramp(5000, 50000, 1), 50257);
  write_shard(tmp / "b.bin", ramp(3000, 50000, 3), 50257);
  TokenStream ts({tmp / "a.bin", tmp / "b.bin"});
  const int B = 4, T = 64;
  auto batch = [&](std::uint64_t seed, std::int64_t step) {
    std::vector<std::int64_t> out(B * (T + 1));
    ts.random_batch(seed, step, B, T, out.data());
    return out;
  };
  // Call order does not matter: step 5 is the same before and after other steps.
  auto s5 = batch(1, 5);
  for (int step = 0; step < 20; ++step) batch(1, step);
  batch(2, 5);
  EXPECT_EQ(batch(1, 5), s5);
  // A second stream over the same files agrees (nothing hidden in object state).
  TokenStream ts2({tmp / "a.bin", tmp / "b.bin"});
  std::vector<std::int64_t> other(B * (T + 1));
  ts2.random_batch(1, 5, B, T, other.data());
  EXPECT_EQ(other, s5);
  EXPECT_NE(batch(1, 6), s5);
  EXPECT_NE(batch(2, 5), s5);
  // Each row is a contiguous window of the stream.
  std::vector<std::int64_t> all(ts.size());
  ts.read(0, ts.size(), all.data());
  for (int b = 0; b < B; ++b) {
    auto row = s5.begin() + b * (T + 1);
    auto at = std::search(all.begin(), all.end(), row, row + T + 1);
    EXPECT_NE(at, all.end()) << "row " << b;
  }
}

TEST(TokenStream, RandomBatchCoversTheWholeStream) {
  TempDir tmp;
  write_shard(tmp / "a.bin", ramp(100, 100, 1), 100);
  TokenStream ts({tmp / "a.bin"});
  std::vector<std::int64_t> out(2 * 10);
  bool saw_first = false, saw_last = false;
  for (int step = 0; step < 2000; ++step) {
    ts.random_batch(3, step, 2, 9, out.data());
    for (int b = 0; b < 2; ++b) {
      saw_first |= out[b * 10] == 0;
      saw_last |= out[b * 10 + 9] == 99;
      ASSERT_LE(out[b * 10], 90);
    }
  }
  EXPECT_TRUE(saw_first);
  EXPECT_TRUE(saw_last);
  std::vector<std::int64_t> big(101);
  std::string msg = error_of([&] { ts.random_batch(3, 0, 1, 100, big.data()); });
  EXPECT_NE(msg.find("a.bin"), std::string::npos) << msg;
  ts.random_batch(3, 0, 1, 99, big.data());  // exactly one window fits
  EXPECT_EQ(big[0], 0);
}

// The evaluation windows, by hand: 11 tokens 0..10, T = 4, batches of 2.
TEST(WindowBatches, TileTheStreamAsEvaluationExpects) {
  TempDir tmp;
  std::vector<std::uint32_t> ids(11);
  for (std::uint32_t i = 0; i < 11; ++i) ids[i] = i;
  write_shard(tmp / "w.bin", ids, 100);
  TokenStream s({tmp / "w.bin"});
  std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>> seen;
  auto collect = [&](std::int64_t rows, std::int64_t len, const std::vector<std::int64_t>& t) {
    EXPECT_EQ(std::int64_t(t.size()) % rows, 0);
    seen.push_back({len, t});
  };
  // extra = 1 over 10 targets: windows [0..4], [4..8] (one batch), then the ragged [8..10].
  for_each_window_batch(s, 10, 4, 2, 1, collect);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 4);
  EXPECT_EQ(seen[0].second, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 4, 5, 6, 7, 8}));
  EXPECT_EQ(seen[1].first, 2);
  EXPECT_EQ(seen[1].second, (std::vector<std::int64_t>{8, 9, 10}));
  // extra = 0 over all 11 tokens, batches of 1: [0..3], [4..7], [8..10].
  seen.clear();
  for_each_window_batch(s, 11, 4, 1, 0, collect);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].second, (std::vector<std::int64_t>{8, 9, 10}));
  EXPECT_EQ(seen[1].second, (std::vector<std::int64_t>{4, 5, 6, 7}));
  EXPECT_THROW(for_each_window_batch(s, 11, 4, 1, 1, collect), Error);  // needs 12 tokens
  EXPECT_THROW(for_each_window_batch(s, 4, 0, 1, 0, collect), Error);
}

// random_batch's limit (issue 15, item 3: every alignment method reads the same first
// calib_tokens tokens): the draws are those of an unlimited call on a stream holding only the
// first `limit` tokens, so every window lies inside them; 0 or a limit past the end changes nothing.
TEST(TokenStream, RandomBatchWithALimitDrawsOnlyInsideTheFirstTokens) {
  TempDir tmp;
  const auto all = ramp(3000, 3000, 1);  // token i is i: a window's first token is its offset
  write_shard(tmp / "all.bin", all, 3000);
  write_shard(tmp / "head.bin", std::vector<std::uint32_t>(all.begin(), all.begin() + 700), 3000);
  TokenStream ts({tmp / "all.bin"}), head({tmp / "head.bin"});
  const int B = 3, T = 20;
  std::vector<std::int64_t> a(B * (T + 1)), b(B * (T + 1)), c(B * (T + 1));
  bool saw_end = false;
  for (int step = 0; step < 500; ++step) {
    ts.random_batch(7, step, B, T, a.data(), 700);
    head.random_batch(7, step, B, T, b.data());
    ASSERT_EQ(a, b) << step;
    for (int r = 0; r < B; ++r) {
      ASSERT_LE(a[r * (T + 1) + T], 699);
      saw_end |= a[r * (T + 1) + T] == 699;
    }
    ts.random_batch(7, step, B, T, b.data(), 0);
    ts.random_batch(7, step, B, T, c.data(), 1u << 20);
    ts.random_batch(7, step, B, T, a.data());
    ASSERT_EQ(b, a);
    ASSERT_EQ(c, a);
  }
  EXPECT_TRUE(saw_end);
  EXPECT_THROW(ts.random_batch(7, 0, B, T, a.data(), 20), Error);  // fewer than T + 1 tokens inside
}
