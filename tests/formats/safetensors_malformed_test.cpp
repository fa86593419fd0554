// safetensors files as hostile input: every kind of damage is an Error naming the file (and the
// tensor or field where there is one), never a crash or a read outside the file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/io.h"
#include "formats/safetensors.h"
#include "support/temp_dir.h"
#include "safetensors_bytes.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

using structlm::test_util::le64;

std::string file_of(const std::string& header, std::size_t data_bytes) {
  return structlm::test_util::safetensors_file(header, std::string(data_bytes, '\x11'));
}

struct Case {
  const char* name;
  std::string bytes;
  const char* expect;  // a piece of the message
};

}  // namespace

TEST(SafetensorsMalformed, EveryDamageIsAnErrorNamingTheFile) {
  TempDir tmp;
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  const Case cases[] = {
      {"empty", "", "truncated"},
      {"short", "\x10\0\0", "truncated"},
      {"huge_header_len", le64(1ULL << 62) + "{}", "limit"},
      {"max_header_len", le64(~0ULL) + "{}", "limit"},
      {"header_past_end", le64(1000) + "{}", "past the end"},
      {"truncated_header", file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8).substr(0, 30),
       "past the end"},
      {"not_json", file_of("{\"a\": nope}", 0), "not valid JSON"},
      {"not_object", file_of("[1,2,3]", 0), "JSON object"},
      {"nested", file_of(std::string(5000, '[') + std::string(5000, ']'), 0), "nested"},
      {"bad_utf8", file_of("{\"\xff\": 1}", 0), "not valid JSON"},
      {"entry_not_object", file_of(R"({"a":5})", 0), "tensor 'a'"},
      {"no_dtype", file_of(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "'dtype'"},
      {"bad_dtype", file_of(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8), "unsupported dtype"},
      {"no_shape", file_of(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), "'shape'"},
      {"negative_dim", file_of(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "'shape'"},
      {"float_dim", file_of(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), "'shape'"},
      {"shape_overflow",
       file_of(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "overflow"},
      {"shape_overflow_by_size",
       file_of(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})", 8), "overflow"},
      {"no_offsets", file_of("{\"a\":{" + f32x2 + "}}", 8), "'data_offsets'"},
      {"one_offset", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[0]}})", 8), "'data_offsets'"},
      {"negative_offset", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[-8,0]}})", 8), "'data_offsets'"},
      {"reversed_offsets", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[8,0]}})", 8), "ends before"},
      {"offsets_out_of_range", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[4,12]}})", 8), "outside the data"},
      {"offsets_far_out", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[18446744073709551608,18446744073709551615]}})", 8),
       "outside the data"},
      {"shape_bytes_mismatch", file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[0,12]}})", 12), "needs 8 bytes"},
      {"overlap",
       file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 + R"(,"data_offsets":[4,12]}})", 12),
       "overlaps"},
      {"same_range",
       file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 + R"(,"data_offsets":[0,8]}})", 8),
       "overlaps"},
      {"duplicate_name",
       file_of("{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]},"a":{)" + f32x2 + R"(,"data_offsets":[8,16]}})", 16),
       "twice"},
      {"metadata_not_object", file_of(R"({"__metadata__":[1]})", 0), "__metadata__"},
      {"metadata_not_string", file_of(R"({"__metadata__":{"epoch":3}})", 0), "'epoch'"},
  };
  for (const auto& c : cases) {
    std::string path = tmp / (std::string(c.name) + ".safetensors");
    write_file_atomic(path, c.bytes);
    std::string msg = error_of([&] { SafetensorsReader r(path); });
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
  }
  EXPECT_NE(error_of([&] { SafetensorsReader r(tmp / "absent.safetensors"); }).find("absent.safetensors"),
            std::string::npos);
}

TEST(SafetensorsMalformed, TensorErrorsNameTheTensor) {
  TempDir tmp;
  write_file_atomic(tmp / "t.safetensors",
                    file_of(R"({"model.wte":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  std::string msg = error_of([&] { SafetensorsReader r(tmp / "t.safetensors"); });
  EXPECT_NE(msg.find("tensor 'model.wte'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data_offsets"), std::string::npos) << msg;
}

TEST(SafetensorsMalformed, EveryTruncationOfAValidFileIsHandled) {
  TempDir tmp;
  SafetensorsWriter w;
  float f[6] = {1, 2, 3, 4, 5, 6};
  w.add("a", DType::F32, {2, 3}, f, sizeof f);
  w.add("b", DType::I8, {5}, "abcde", 5);
  w.set_metadata("k", "v");
  w.write(tmp / "ok.safetensors");
  std::string raw = read_file(tmp / "ok.safetensors");
  for (std::size_t n = 0; n < raw.size(); ++n) {
    write_file_atomic(tmp / "cut.safetensors", raw.substr(0, n));
    EXPECT_THROW(SafetensorsReader r(tmp / "cut.safetensors"), Error) << n;
  }
  // Flipping any single header byte gives a valid file or an Error, never a crash.
  for (std::size_t i = 0; i < raw.size() - 29; ++i) {
    std::string bad = raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    write_file_atomic(tmp / "flip.safetensors", bad);
    try {
      SafetensorsReader r(tmp / "flip.safetensors");
      for (const auto& t : r.tensors()) ASSERT_LE(t.end, raw.size());
    } catch (const Error&) {
    }
  }
}

// The in-memory entry point (what the fuzz target drives) is the reader's own parser: the same
// layout from the same bytes, and the same error naming the name it is given.
TEST(SafetensorsMalformed, InMemoryParseMatchesTheFileReader) {
  TempDir tmp;
  const std::string bytes =
      file_of(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})", 8);
  write_file_atomic(tmp / "m.safetensors", bytes);
  SafetensorsReader r(tmp / "m.safetensors");
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  SafetensorsLayout l = parse_safetensors(p, bytes.size(), "mem");
  ASSERT_EQ(l.tensors.size(), 1u);
  EXPECT_EQ(l.tensors[0].name, "w");
  EXPECT_EQ(l.tensors[0].end, 8u);
  EXPECT_EQ(l.metadata, r.metadata());
  EXPECT_EQ(l.data_start, bytes.size() - 8);
  EXPECT_EQ(r.data(r.get("w")) - r.data(r.tensors()[0]), 0);
  EXPECT_EQ(error_of([&] { parse_safetensors(p, 7, "mem.safetensors"); }).rfind("mem.safetensors: truncated", 0), 0u);
}
