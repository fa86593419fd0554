// The Llama family in C++ (issue 16) against scripts/reference/llama_ref.py, an independent torch
// model: its tiny Llama, Llama 3 (rope scaling in all three bands), Mistral (head_dim given),
// Qwen2 (q/k/v biases, tied) and multi-query TinyLlama-like models, written as Hugging Face
// folders (sharded F32, and single-file BF16), read by import_hf_llama and run in float64: the
// logits must be the reference's float64 logits of exactly the stored weights.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/io.h"
#include "formats/safetensors.h"
#include "interop/hf_llama.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const char* kPython = "/usr/bin/python3";  // Debian's python3-torch (scripts/setup.sh)

// Writes the reference's files for `arch` into DIR; false (with its output) when Python fails.
bool make_reference(const std::string& arch, const std::string& dtype, int shards, const std::string& dir) {
  const std::string cmd = std::string(kPython) + " " + STRUCTLM_SOURCE_DIR + "/scripts/reference/llama_ref.py make --arch " +
                          arch + " --seed 7 --dtype " + dtype + " --shards " + std::to_string(shards) + " --out " + dir +
                          " > " + dir + ".log 2>&1";
  return std::system(cmd.c_str()) == 0;
}

torch::Tensor read_tensor(const formats::SafetensorsReader& r, const std::string& name, torch::ScalarType t) {
  const auto& info = r.get(name);
  torch::Tensor x = torch::empty(info.shape, t);
  std::memcpy(x.data_ptr(), r.data(info), info.nbytes());
  return x;
}

}  // namespace

class LlamaReference : public ::testing::TestWithParam<std::tuple<const char*, const char*, int>> {};

TEST_P(LlamaReference, ImportedModelGivesTheReferenceLogits) {
  const auto [arch, dtype, shards] = GetParam();
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference(arch, dtype, shards, dir)) << read_file(dir + ".log");
  model::LlamaForCausalLM net = interop::import_hf_llama(dir + "/hf");
  net->to(torch::kFloat64);
  formats::SafetensorsReader expected(dir + "/expected.safetensors");
  const torch::Tensor ids = read_tensor(expected, "input_ids", torch::kLong);
  const torch::Tensor want = read_tensor(expected, "logits", torch::kFloat32).to(torch::kFloat64);
  torch::NoGradGuard g;
  const torch::Tensor got = net->forward(ids);
  ASSERT_EQ(got.sizes(), want.sizes());
  // Both are float64 computations of the same weights; the reference stored its logits as F32.
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-5 * want.abs().max().item<double>()) << arch << " " << dtype;
  // And the check can fail: a wrong rope theta moves the logits far beyond that.
  auto cfg = net->config();
  cfg.rope_theta *= 2;
  model::LlamaForCausalLM other(cfg);
  other->to(torch::kFloat64);
  auto mine = net->named_parameters(), theirs = other->named_parameters();
  for (auto& item : mine) theirs[item.key()].copy_(item.value());
  EXPECT_GT((other->forward(ids) - want).abs().max().item<double>(), 1e-3 * want.abs().max().item<double>());
}

INSTANTIATE_TEST_SUITE_P(Archs, LlamaReference,
                         ::testing::Values(std::make_tuple("llama", "f32", 2), std::make_tuple("llama3", "f32", 1),
                                           std::make_tuple("mistral", "bf16", 1), std::make_tuple("qwen2", "f32", 3),
                                           std::make_tuple("tinyllama-like", "f16", 2)));

TEST(LlamaImport, DamagedFoldersAreErrorsNamingTheFileAndTensor) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama", "f32", 2, dir)) << read_file(dir + ".log");
  const std::string hf = dir + "/hf";
  // The index sends a tensor to the wrong shard.
  const std::string index = read_file(hf + "/model.safetensors.index.json");
  std::string moved = index;
  const auto at = moved.find("\"lm_head.weight\": \"model-00002-of-00002.safetensors\"");
  ASSERT_NE(at, std::string::npos) << index;
  {
    moved.replace(at, std::strlen("\"lm_head.weight\": \"model-00002-of-00002.safetensors\""),
                  "\"lm_head.weight\": \"model-00001-of-00002.safetensors\"");
    write_file_atomic(hf + "/model.safetensors.index.json", moved);
    EXPECT_NE(error_of([&] { interop::import_hf_llama(hf); }).find("but the index puts it in"), std::string::npos);
    write_file_atomic(hf + "/model.safetensors.index.json", index);
  }
  // A shard that is gone; a config that disagrees with the tensors.
  std::filesystem::rename(hf + "/model-00002-of-00002.safetensors", t / "away.safetensors");
  std::string e = error_of([&] { interop::import_hf_llama(hf); });
  EXPECT_NE(e.find("model-00002-of-00002.safetensors: missing"), std::string::npos) << e;
  std::filesystem::rename(t / "away.safetensors", hf + "/model-00002-of-00002.safetensors");
  std::string cfg = read_file(hf + "/config.json");
  const auto k = cfg.find("\"intermediate_size\": 176");
  ASSERT_NE(k, std::string::npos) << cfg;
  cfg.replace(k, std::strlen("\"intermediate_size\": 176"), "\"intermediate_size\": 170");
  write_file_atomic(hf + "/config.json", cfg);
  e = error_of([&] { interop::import_hf_llama(hf); });
  EXPECT_NE(e.find("mlp.gate_proj.weight' has shape [176, 64], expected [170, 64]"), std::string::npos) << e;
}
