// safetensors: round trips for every dtype, the exact bytes of the format, and files as other
// writers lay them out (Hugging Face's spec: unpadded headers, metadata, any key order).
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "formats/safetensors.h"
#include "support/temp_dir.h"
#include "safetensors_bytes.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

using structlm::test_util::le64;
using structlm::test_util::safetensors_file;

TEST(Safetensors, DTypeNamesAndSizes) {
  const std::pair<DType, std::pair<const char*, std::size_t>> all[] = {
      {DType::F64, {"F64", 8}}, {DType::F32, {"F32", 4}}, {DType::F16, {"F16", 2}}, {DType::BF16, {"BF16", 2}},
      {DType::I64, {"I64", 8}}, {DType::I32, {"I32", 4}}, {DType::I16, {"I16", 2}}, {DType::I8, {"I8", 1}},
      {DType::U8, {"U8", 1}},   {DType::BOOL, {"BOOL", 1}},
  };
  for (const auto& [d, info] : all) {
    EXPECT_STREQ(dtype_name(d), info.first);
    EXPECT_EQ(dtype_size(d), info.second);
    DType back;
    ASSERT_TRUE(parse_dtype(info.first, back));
    EXPECT_EQ(back, d);
  }
  DType x;
  EXPECT_FALSE(parse_dtype("f32", x));
  EXPECT_FALSE(parse_dtype("F8_E4M3", x));
}

TEST(Safetensors, RoundTripEveryDType) {
  TempDir tmp;
  const DType all[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                       DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
  SafetensorsWriter w;
  std::vector<std::vector<std::uint8_t>> payloads;
  int k = 0;
  for (DType d : all) {
    std::vector<std::int64_t> shape = {3, k % 3 + 1};  // odd sizes: later tensors start unaligned
    std::vector<std::uint8_t> bytes(3 * (k % 3 + 1) * dtype_size(d));
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + k);
    if (d == DType::BOOL)
      for (auto& b : bytes) b &= 1;
    w.add(std::string("t.") + dtype_name(d), d, shape, bytes.data(), bytes.size());
    payloads.push_back(bytes);
    ++k;
  }
  w.add("scalar", DType::F32, {}, "\0\0\x80\x3f", 4);  // 1.0f, rank 0
  w.add("empty", DType::F32, {0, 5}, nullptr, 0);
  w.set_metadata("format", "pt");
  w.set_metadata("note", "h\xc3\xa9llo \"quoted\"");
  w.write(tmp / "m.safetensors");

  SafetensorsReader r(tmp / "m.safetensors");
  ASSERT_EQ(r.tensors().size(), 12u);
  k = 0;
  for (DType d : all) {
    const TensorInfo& t = r.tensors()[k];  // file order is the order added
    EXPECT_EQ(t.name, std::string("t.") + dtype_name(d));
    EXPECT_EQ(t.dtype, d);
    EXPECT_EQ(t.shape, (std::vector<std::int64_t>{3, k % 3 + 1}));
    EXPECT_EQ(t.numel(), 3u * (k % 3 + 1));
    ASSERT_EQ(t.nbytes(), payloads[k].size());
    EXPECT_EQ(std::memcmp(r.data(t), payloads[k].data(), t.nbytes()), 0) << t.name;
    ++k;
  }
  const TensorInfo& s = r.get("scalar");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.numel(), 1u);
  float one;
  std::memcpy(&one, r.data(s), 4);
  EXPECT_EQ(one, 1.0f);
  EXPECT_EQ(r.get("empty").numel(), 0u);
  EXPECT_EQ(r.metadata().at("format"), "pt");
  EXPECT_EQ(r.metadata().at("note"), "h\xc3\xa9llo \"quoted\"");
  EXPECT_EQ(r.find("absent"), nullptr);
  std::string msg = error_of([&] { r.get("absent"); });
  EXPECT_NE(msg.find("m.safetensors"), std::string::npos);
  EXPECT_NE(msg.find("'absent'"), std::string::npos);
}

TEST(Safetensors, WriterBytesFollowTheSpec) {
  TempDir tmp;
  SafetensorsWriter w;
  const std::int32_t v[4] = {1, 2, 3, 4};
  w.add("test", DType::I32, {2, 2}, v, sizeof v);
  w.write(tmp / "a.safetensors");
  std::string raw = read_file(tmp / "a.safetensors");
  const std::string json = R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})";
  std::string header = json + std::string((8 - json.size() % 8) % 8, ' ');  // padded with spaces
  ASSERT_EQ(raw.size(), 8 + header.size() + 16);
  EXPECT_EQ(raw.substr(0, 8), le64(header.size()));
  EXPECT_EQ(raw.substr(8, header.size()), header);
  EXPECT_EQ((8 + header.size()) % 8, 0u);
  EXPECT_EQ(std::memcmp(raw.data() + 8 + header.size(), v, 16), 0);
}

TEST(Safetensors, ReadsFilesFromOtherWriters) {
  TempDir tmp;
  // Unpadded header, metadata last, keys in an order of the writer's choosing, tensors stored in
  // a different order than listed, as Hugging Face's writer does (it sorts by alignment).
  const std::string header =
      R"({"b":{"data_offsets":[0,2],"dtype":"BF16","shape":[1]},"a":{"dtype":"F32","shape":[2],"data_offsets":[2,10]},"__metadata__":{"format":"pt"}})";
  std::string data = std::string("\x80\x3f", 2);  // bf16 1.0
  float a[2] = {0.5f, -2.0f};
  data.append(reinterpret_cast<const char*>(a), 8);
  write_file_atomic(tmp / "hf.safetensors", safetensors_file(header, data));
  SafetensorsReader r(tmp / "hf.safetensors");
  ASSERT_EQ(r.tensors().size(), 2u);
  EXPECT_EQ(r.tensors()[0].name, "b");  // file order kept
  EXPECT_EQ(r.tensors()[1].name, "a");
  float back[2];
  std::memcpy(back, r.data(r.get("a")), 8);
  EXPECT_EQ(back[1], -2.0f);
  EXPECT_EQ(r.metadata().at("format"), "pt");
  // A header with only metadata, or nothing at all, is a valid file with no tensors.
  write_file_atomic(tmp / "none.safetensors", safetensors_file("{}", ""));
  EXPECT_TRUE(SafetensorsReader(tmp / "none.safetensors").tensors().empty());
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  SafetensorsWriter w;
  float f[4] = {};
  EXPECT_NE(error_of([&] { w.add("x", DType::F32, {2, 3}, f, sizeof f); }).find("'x'"), std::string::npos);
  EXPECT_THROW(w.add("neg", DType::F32, {-1, -4}, f, 16), Error);
  EXPECT_THROW(w.add("__metadata__", DType::F32, {4}, f, 16), Error);
  w.add("ok", DType::F32, {4}, f, 16);
  EXPECT_THROW(w.add("ok", DType::F32, {4}, f, 16), Error);
  EXPECT_THROW(w.add("big", DType::F64, {1LL << 32, 1LL << 32}, f, 16), Error);  // overflow
}
