// GGUF at the byte level: the writer's bytes checked field by field against the spec's layout,
// the parser reading them back, and damaged files (every truncation, lying counts and lengths,
// bad offsets, alignment and types) rejected with an error naming the file and the field.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "formats/gguf.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;

namespace {

template <typename T>
std::string le(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(&s[0], &v, sizeof(T));
  return s;
}
std::string str(const std::string& s) { return le<std::uint64_t>(s.size()) + s; }

GgufFile parse(const std::string& bytes) {
  return parse_gguf(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "m.gguf");
}

// A small file written by hand following the spec: 2 metadata entries, one F32 tensor [2, 3]
// (ne = 3, 2) at offset 0.
std::string hand_file(std::uint64_t n_tensors = 1, std::uint64_t n_kv = 2, std::uint32_t ggml_type = 0,
                      std::uint64_t offset = 0, std::uint64_t ne0 = 3) {
  std::string s = "GGUF" + le<std::uint32_t>(3) + le<std::uint64_t>(n_tensors) + le<std::uint64_t>(n_kv);
  s += str("general.architecture") + le<std::uint32_t>(8) + str("gpt2");
  s += str("list") + le<std::uint32_t>(9) + le<std::uint32_t>(5) + le<std::uint64_t>(2) + le<std::int32_t>(-7) +
       le<std::int32_t>(9);
  s += str("w") + le<std::uint32_t>(2) + le<std::uint64_t>(ne0) + le<std::uint64_t>(2) + le<std::uint32_t>(ggml_type) +
       le<std::uint64_t>(offset);
  s.resize((s.size() + 31) / 32 * 32, '\0');
  for (int i = 0; i < 6; ++i) s += le<float>(0.5f * i);
  return s;
}

}  // namespace

TEST(Gguf, ReadsAFileWrittenByHandFromTheSpec) {
  const std::string bytes = hand_file();
  const GgufFile f = parse(bytes);
  EXPECT_EQ(f.version, 3u);
  EXPECT_EQ(f.alignment, 32u);
  EXPECT_EQ(f.get_string("general.architecture"), "gpt2");
  EXPECT_EQ(f.get_int_array("list"), (std::vector<std::int64_t>{-7, 9}));
  ASSERT_EQ(f.tensors.size(), 1u);
  const auto& t = f.tensors[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.ne, (std::vector<std::uint64_t>{3, 2}));
  EXPECT_EQ(t.numel, 6u);
  EXPECT_EQ(t.nbytes, 24u);
  EXPECT_EQ(f.data_offset % 32, 0u);
  float v[6];
  std::memcpy(v, bytes.data() + f.data_offset + t.offset, sizeof v);
  EXPECT_EQ(v[5], 2.5f);
}

TEST(Gguf, WriterBytesFollowTheSpecAndReadBack) {
  GgufWriter w;
  w.add_string("general.name", "tiny");
  w.add_u32("gpt2.block_count", 2);
  w.add_f32("eps", 1e-5f);
  w.add_bool("flag", true);
  w.add_string_array("tokens", {"a", "Ġb", ""});
  w.add_i32_array("types", {1, 3});
  w.add_f32_array("scores", {0.f, -1.5f, -1e9f});
  const std::uint16_t half[4] = {0x3c00, 0x4000, 0x4200, 0x4400};  // 1, 2, 3, 4 in f16
  w.add_tensor("h", GgmlType::F16, {4}, half, sizeof half);
  const float one[1] = {7.f};
  w.add_tensor("x", GgmlType::F32, {1}, one, sizeof one);
  const std::string b = w.bytes();

  // Header: magic, version 3, 2 tensors, 8 entries (general.alignment first).
  EXPECT_EQ(b.substr(0, 4), "GGUF");
  EXPECT_EQ(b.substr(4, 4), le<std::uint32_t>(3));
  EXPECT_EQ(b.substr(8, 8), le<std::uint64_t>(2));
  EXPECT_EQ(b.substr(16, 8), le<std::uint64_t>(8));
  // The scores: key, ARRAY, element type F32, count 3, the floats.
  EXPECT_NE(b.find(str("scores") + le<std::uint32_t>(9) + le<std::uint32_t>(6) + le<std::uint64_t>(3) + le<float>(0.f) +
                   le<float>(-1.5f) + le<float>(-1e9f)),
            std::string::npos);
  EXPECT_EQ(b.substr(24, 8 + 17 + 4 + 4), str("general.alignment") + le<std::uint32_t>(4) + le<std::uint32_t>(32));
  EXPECT_EQ(b.size() % 32, 0u);

  const GgufFile f = parse(b);
  EXPECT_EQ(f.get_string("general.name"), "tiny");
  EXPECT_EQ(f.get_uint("gpt2.block_count"), 2u);
  EXPECT_FLOAT_EQ(f.get_float("eps"), 1e-5f);
  EXPECT_TRUE(f.find("flag")->b);
  EXPECT_TRUE(f.get_bool("flag"));
  EXPECT_EQ(f.get_float_array("scores"), (std::vector<double>{0, -1.5, double(-1e9f)}));
  EXPECT_EQ(f.get_string_array("tokens"), (std::vector<std::string>{"a", "Ġb", ""}));
  EXPECT_EQ(f.get_int_array("types"), (std::vector<std::int64_t>{1, 3}));
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].offset, 0u);
  EXPECT_EQ(f.tensors[1].offset, 32u);  // 8 bytes of f16, padded to the alignment
  EXPECT_EQ(std::memcmp(b.data() + f.data_offset, half, sizeof half), 0);
  EXPECT_EQ(std::memcmp(b.data() + f.data_offset + 32, one, sizeof one), 0);
  EXPECT_EQ(f.find_tensor("x")->type, GgmlType::F32);
}

TEST(Gguf, TypedAccessErrorsNameTheKey) {
  const GgufFile f = parse(hand_file());
  EXPECT_NE(error_of([&] { f.get_uint("missing"); }).find("m.gguf: metadata key 'missing' is missing"), std::string::npos);
  EXPECT_NE(error_of([&] { f.get_uint("general.architecture"); }).find("'general.architecture': expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.get_string_array("list"); }).find("array of int32"), std::string::npos);
  EXPECT_NE(error_of([&] { f.get_float_array("list"); }).find("'list': expected an array of floats, found array of int32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.get_bool("list"); }).find("'list': expected a bool"), std::string::npos);
}

TEST(Gguf, EveryTruncationIsAnErrorNamingTheFile) {
  const std::string bytes = hand_file();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = error_of([&] { parse(bytes.substr(0, n)); });
    EXPECT_EQ(msg.rfind("m.gguf: ", 0), 0u) << n << ": " << msg;
  }
}

TEST(Gguf, DamagedFilesAreErrorsNamingTheField) {
  std::string bytes = hand_file();
  auto with = [&](std::size_t at, const std::string& patch) {
    std::string b = bytes;
    b.replace(at, patch.size(), patch);
    return b;
  };
  const std::size_t kv0 = 24, key_len = kv0;  // first key's length field
  const std::size_t arch_value_len = kv0 + 8 + 20 + 4;
  const struct {
    const char* name;
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"bad magic", with(0, "GGUG"), "magic"},
      {"version 1", with(4, le<std::uint32_t>(1)), "version: 1"},
      {"big endian", with(4, le<std::uint32_t>(0x03000000)), "big-endian"},
      {"huge tensor count", with(8, le<std::uint64_t>(1ULL << 61)), "tensor count"},
      {"huge metadata count", with(16, le<std::uint64_t>(~0ULL)), "metadata count"},
      {"key length 2^60", with(key_len, le<std::uint64_t>(1ULL << 60)), "string length"},
      {"string length 2^60", with(arch_value_len, le<std::uint64_t>(1ULL << 60)), "key 'general.architecture'"},
      {"unknown value type", with(kv0 + 28, le<std::uint32_t>(13)), "unknown value type 13"},
      {"array length 2^62", hand_file(1, 2).replace(kv0 + 44 + 8 + 4 + 4 + 4, 8, le<std::uint64_t>(1ULL << 62)),
       "array length"},
      {"quantized tensor", hand_file(1, 2, 8), "ggml type 8"},
      {"unknown tensor type", hand_file(1, 2, 1000), "ggml type 1000"},
      {"misaligned offset", hand_file(1, 2, 0, 4), "not a multiple of the alignment"},
      {"offset past end", hand_file(1, 2, 0, 64), "runs past the end"},
      {"offset overflow", hand_file(1, 2, 0, ~0ULL - 31), "runs past the end"},
      {"dims overflow", hand_file(1, 2, 0, 0, 1ULL << 62), "overflows"},
      {"zero dim", hand_file(1, 2, 0, 0, 0), "ne[0] = 0"},
      {"one tensor too many", hand_file(2, 2), "tensor"},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { parse(c.bytes); });
    EXPECT_EQ(msg.rfind("m.gguf: ", 0), 0u) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
  }
}

TEST(Gguf, RejectsDuplicatesOverlapsAndBadAlignment) {
  auto file = [](const std::string& kv, std::uint64_t n_kv, std::uint64_t off2, const std::string& name2) {
    std::string s = "GGUF" + le<std::uint32_t>(3) + le<std::uint64_t>(2) + le<std::uint64_t>(n_kv) + kv;
    for (auto [name, off] : {std::pair<std::string, std::uint64_t>{"a", 0}, {name2, off2}})
      s += str(name) + le<std::uint32_t>(1) + le<std::uint64_t>(16) + le<std::uint32_t>(0) + le<std::uint64_t>(off);
    s.resize((s.size() + 31) / 32 * 32 + 128, '\0');
    return s;
  };
  const std::string align8 = str("general.alignment") + le<std::uint32_t>(4) + le<std::uint32_t>(8);
  EXPECT_NO_THROW(parse(file(align8, 1, 64, "b")));
  EXPECT_NE(error_of([&] { parse(file(align8, 1, 32, "b")); }).find("tensor 'b': data overlaps tensor 'a'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse(file(align8, 1, 64, "a")); }).find("tensor 'a' appears twice"), std::string::npos);
  EXPECT_NE(error_of([&] { parse(file(align8 + align8, 2, 64, "b")); }).find("'general.alignment' appears twice"),
            std::string::npos);
  const std::string align3 = str("general.alignment") + le<std::uint32_t>(4) + le<std::uint32_t>(3);
  EXPECT_NE(error_of([&] { parse(file(align3, 1, 64, "b")); }).find("not a power of two"), std::string::npos);
  const std::string align_u64 = str("general.alignment") + le<std::uint32_t>(10) + le<std::uint64_t>(8);
  EXPECT_NE(error_of([&] { parse(file(align_u64, 1, 64, "b")); }).find("must be uint32"), std::string::npos);
  const std::string nested = str("n") + le<std::uint32_t>(9) + le<std::uint32_t>(9) + le<std::uint64_t>(0);
  EXPECT_NE(error_of([&] { parse(file(nested, 1, 64, "b")); }).find("nested arrays"), std::string::npos);
  const std::string bad_bool = str("flag") + le<std::uint32_t>(7) + std::string(1, '\x02');
  EXPECT_NE(error_of([&] { parse(file(bad_bool, 1, 64, "b")); }).find("neither 0 nor 1"), std::string::npos);
}
