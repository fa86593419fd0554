// llm.c's model and tokenizer files at the byte level: headers written field by field as
// train_gpt2.py writes them, sizes derived from the header, and damaged files rejected with the
// file and the header field named.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "formats/llmc.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;

namespace {

std::string header(std::initializer_list<std::int32_t> fields) {
  std::int32_t h[256] = {};
  int i = 0;
  for (auto v : fields) h[i++] = v;
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

LlmcModelHeader parse_model(const std::string& b) {
  return parse_llmc_model(reinterpret_cast<const std::uint8_t*>(b.data()), b.size(), "m.bin");
}
LlmcTokenizer parse_tok(const std::string& b) {
  return parse_llmc_tokenizer(reinterpret_cast<const std::uint8_t*>(b.data()), b.size(), "t.bin");
}

// maxT 4, V 5, L 2, NH 2, C 4, Vp 8: parameter count by hand from llm.c's fill_in_parameter_sizes.
constexpr std::uint64_t kParams = 8 * 4 + 4 * 4 + 2 * (4 + 4 + 12 * 4 + 12 + 4 * 4 + 4 + 4 + 4 + 16 * 4 + 16 + 4 * 16 + 4) + 4 + 4;

}  // namespace

TEST(LlmcModel, HeaderAndSizesAsLlmcComputesThem) {
  const std::string b = header({20240326, 3, 4, 5, 2, 2, 4, 8}) + std::string(kParams * 4, '\0');
  const LlmcModelHeader h = parse_model(b);
  EXPECT_EQ(h.max_seq_len, 4);
  EXPECT_EQ(h.vocab_size, 5);
  EXPECT_EQ(h.padded_vocab_size, 8);
  std::uint64_t total = 0;
  for (auto n : llmc_param_counts(h)) total += n;
  EXPECT_EQ(total, kParams);
  EXPECT_EQ(llmc_param_shapes(h)[4], (std::vector<std::int64_t>{2, 12, 4}));  // qkvw: L x 3C x C
  EXPECT_EQ(llmc_model_header_bytes(h), b.substr(0, 1024));
  EXPECT_STREQ(llmc_param_name(12), "fcprojw");

  const std::string bf = header({20240326, 5, 4, 5, 2, 2, 4, 8}) + std::string(kParams * 2, '\0');
  EXPECT_TRUE(parse_model(bf).bf16());
}

TEST(LlmcModel, DamagedHeadersAreErrorsNamingTheField) {
  const std::string body(kParams * 4, '\0');
  const struct {
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"", "truncated"},
      {header({20240326, 3, 4, 5, 2, 2, 4, 8}).substr(0, 1000), "truncated"},
      {header({20240327, 3, 4, 5, 2, 2, 4, 8}) + body, "header magic"},
      {header({20240326, 4, 4, 5, 2, 2, 4, 8}) + body, "header version: 4"},
      {header({20240326, 3, 0, 5, 2, 2, 4, 8}) + body, "header maxT"},
      {header({20240326, 3, 4, -5, 2, 2, 4, 8}) + body, "header V"},
      {header({20240326, 3, 4, 5, 2, 3, 4, 8}) + body, "header NH"},
      {header({20240326, 3, 4, 9, 2, 2, 4, 8}) + body, "header Vp"},
      {header({20240326, 3, 4, 5, 2, 2, 4, 8}) + body.substr(4), "truncated?"},
      {header({20240326, 3, 4, 5, 2, 2, 4, 8}) + body + "x", "holds"},
      {header({20240326, 3, 0x7fffffff, 5, 0x7fffffff, 1, 0x7fffffff, 8}) + body, "overflow"},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { parse_model(c.bytes); });
    EXPECT_EQ(msg.rfind("m.bin: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
  }
}

TEST(LlmcTokenizer, RoundTripAndLayout) {
  LlmcTokenizer t;
  t.eot = 2;
  t.tokens = {"a", std::string("\0\xff", 2), "<|endoftext|>"};
  const std::string b = llmc_tokenizer_bytes(t, "t.bin");
  EXPECT_EQ(b.substr(0, 16), header({20240328, 2, 3, 2}).substr(0, 16));
  EXPECT_EQ(b.substr(1024), std::string("\x01" "a" "\x02", 3) + std::string("\0\xff", 2) + "\x0d<|endoftext|>");
  const LlmcTokenizer back = parse_tok(b);
  EXPECT_EQ(back.tokens, t.tokens);
  EXPECT_EQ(back.eot, 2);
  EXPECT_EQ(parse_tok(header({20240328, 1, 1}) + "\x01z").eot, -1);  // version 1 has no eot

  t.tokens[0] = std::string(256, 'x');
  EXPECT_NE(error_of([&] { llmc_tokenizer_bytes(t, "t.bin"); }).find("token 0 has 256 bytes"), std::string::npos);
}

TEST(LlmcTokenizer, DamagedFilesAreErrorsNamingTheField) {
  const struct {
    std::string bytes;
    const char* expect;
  } cases[] = {
      {header({20240328, 2, 1, 0}).substr(0, 8), "truncated"},
      {header({20240329, 2, 1, 0}) + "\x01z", "header magic"},
      {header({20240328, 3, 1, 0}) + "\x01z", "header version"},
      {header({20240328, 2, 0, 0}), "vocab_size: 0"},
      {header({20240328, 2, 0x7fffffff, 0}) + "\x01z", "cannot fit"},
      {header({20240328, 2, 1, 1}) + "\x01z", "eot_token: 1"},
      {header({20240328, 2, 2, 0}) + "\x01z\x05" "abc", "token 1: truncated"},
      {header({20240328, 2, 2, 0}) + std::string("\x01z\x00" "ab", 5), "token 1: length 0"},
      {header({20240328, 2, 1, 0}) + "\x01zz", "unexpected bytes"},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { parse_tok(c.bytes); });
    EXPECT_EQ(msg.rfind("t.bin: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
  }
}
