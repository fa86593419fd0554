// Model file formats told apart by their first bytes, and a file that is none of them refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/io.h"
#include "formats/detect.h"
#include "formats/llmc.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

TEST(DetectModelFormat, MagicBytesNameTheFormat) {
  TempDir t;
  write_file_atomic(t / "a.gguf", std::string("GGUF") + std::string(20, '\0'));
  EXPECT_EQ(formats::detect_model_format(t / "a.gguf"), "gguf");

  std::string llmc(1024, '\0');
  const std::int32_t magic = formats::kLlmcModelMagic;
  std::memcpy(llmc.data(), &magic, 4);
  write_file_atomic(t / "a.bin", llmc);
  EXPECT_EQ(formats::detect_model_format(t / "a.bin"), "llmc");

  std::string st(8, '\0');
  st[0] = 2;  // header length 2, little-endian
  write_file_atomic(t / "a.safetensors", st + "{}");
  EXPECT_EQ(formats::detect_model_format(t / "a.safetensors"), "hf");

  write_file_atomic(t / "notes.txt", "just some text, no model here");
  const auto e = error_of([&] { formats::detect_model_format(t / "notes.txt"); });
  EXPECT_NE(e.find("notes.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("pass --from"), std::string::npos) << e;
  write_file_atomic(t / "tiny", "GG");
  EXPECT_NE(error_of([&] { formats::detect_model_format(t / "tiny"); }).find("cannot tell the format"), std::string::npos);
}
