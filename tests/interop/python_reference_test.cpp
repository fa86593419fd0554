// Imports of files written by an independent Python writer (scripts/reference/interop_files.py:
// struct + json from the formats' descriptions, model from scripts/reference/gpt.py): the C++
// model built from each import must give the logits PyTorch computed from the same weights.
// This checks the name maps, the Conv1D transpose, GGUF's dims order and llm.c's stacking and
// padding against code that shares nothing with ours.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "data/shard.h"
#include "interop/convert.h"
#include "interop_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::interop;
using namespace structlm::interop::testing;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const char* kPython = "/usr/bin/python3";  // Debian's python3-torch, not whatever is on PATH

class PythonFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("python-files");
    const std::string cmd = std::string(kPython) + " " + STRUCTLM_SOURCE_DIR +
                            "/scripts/reference/interop_files.py " + dir_->path() + " 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!ok_) GTEST_SKIP() << kPython << " with torch could not write the reference files";
  }
  std::string path(const std::string& name) const { return *dir_ / name; }

  // Python's float64 logits [1, T, V] for the fixed tokens, against the imported model's.
  void expect_python_logits(const GptTensors& m, const std::string& name) {
    const json ids = load_json(path("tokens.json"));
    std::vector<std::int64_t> v = ids.get<std::vector<std::int64_t>>();
    const auto T = static_cast<std::int64_t>(v.size());
    const torch::Tensor idx = torch::tensor(v).view({1, T});
    const std::string raw = read_file(path(name + ".logits"));
    torch::Tensor want = torch::empty({1, T, m.config.vocab_size}, torch::kFloat64);
    ASSERT_EQ(raw.size(), static_cast<std::size_t>(want.numel() * 8));
    std::memcpy(want.data_ptr(), raw.data(), raw.size());
    const torch::Tensor got = logits(m, idx).to(torch::kFloat64);
    // float32 forward vs float64 forward of the same weights.
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-4 * want.abs().max().item<double>()) << name;
  }

  static TempDir* dir_;
  static bool ok_;
};
TempDir* PythonFiles::dir_ = nullptr;
bool PythonFiles::ok_ = false;

}  // namespace

TEST_F(PythonFiles, HuggingFaceConv1DWithPrefixBuffersAndConfig) {
  const Imported m = import_hf(path("hf/model.safetensors"), 0, path("tok"));
  EXPECT_EQ(m.model.config.n_head, 2);
  EXPECT_TRUE(m.model.config.tied);
  expect_python_logits(m.model, "hf");
  ASSERT_TRUE(m.wrote_tokenizer);
  const auto tok = text::Tokenizer::load(path("tok"));
  EXPECT_EQ(tok.vocab_size(), 259u);
  EXPECT_EQ(tok.encode(" the"), (std::vector<text::TokenId>{256, 257}));  // "Ġt" "he"
}

TEST_F(PythonFiles, HuggingFaceUntied) {
  const Imported m = import_hf(path("hf_untied/model.safetensors"), 0, "");
  EXPECT_FALSE(m.model.config.tied);
  expect_python_logits(m.model, "hf_untied");
}

TEST_F(PythonFiles, HuggingFaceF16WithoutPrefixNeedsTheHeadCount) {
  const std::string f = path("hf_f16/model.safetensors");
  EXPECT_NE(error_of([&] { import_hf(f, 0, ""); }).find("--n-head"), std::string::npos);
  const Imported m = import_hf(f, 2, "");
  expect_python_logits(m.model, "hf_f16");
}

TEST_F(PythonFiles, GgufAsLlamaCppsConverterLaysItOut) {
  const Imported m = import_gguf(path("model.gguf"), path("gguf_tok"));
  expect_python_logits(m.model, "model.gguf");
  const auto tok = text::Tokenizer::load(path("gguf_tok"));
  EXPECT_EQ(tok.eot(), 258u);
  EXPECT_EQ(tok.encode("the"), (std::vector<text::TokenId>{"t"[0] - '!', 257}));
}

TEST_F(PythonFiles, LlmcF32AndBf16AndItsTokenizer) {
  const Imported m = import_llmc(path("model.bin"));
  expect_python_logits(m.model, "model.bin");
  const Imported b = import_llmc(path("model_bf16.bin"));
  expect_python_logits(b.model, "model_bf16.bin");
  // The llm.c tokenizer file holds exactly the HF files' tokenizer's bytes.
  import_hf(path("hf/model.safetensors"), 0, path("tok2"));
  EXPECT_NO_THROW(check_llmc_tokenizer(path("tokenizer.bin"), text::Tokenizer::load(path("tok2"))));
}

TEST_F(PythonFiles, LlmcShardWrittenByDataCommonIsAStructlmShard) {
  const data::Shard s(path("shard.bin"));
  ASSERT_EQ(s.size(), 6u);
  const std::uint32_t want[] = {50256, 15496, 995, 13, 65535, 0};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(s[i], want[i]);
}
