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
#include "eval/generate.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "interop/gguf_llama.h"
#include "interop/hf_llama.h"
#include "model/checkpoint.h"
#include "model/precision.h"
#include "support/temp_dir.h"
#include "text/tokenizer.h"
#include "zoo/zoo.h"

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

// The largest difference between `net`'s float64 logits and the reference's for its input ids
// (DIR/expected.safetensors), relative to the reference's largest logit. `net` becomes float64.
double reference_logit_error(model::LlamaForCausalLM& net, const std::string& dir) {
  net->to(torch::kFloat64);
  formats::SafetensorsReader expected(dir + "/expected.safetensors");
  const torch::Tensor ids = read_tensor(expected, "input_ids", torch::kLong);
  const torch::Tensor want = read_tensor(expected, "logits", torch::kFloat32).to(torch::kFloat64);
  torch::NoGradGuard g;
  const torch::Tensor got = net->forward(ids);
  if (got.sizes() != want.sizes()) return INFINITY;
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
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

// The path `structlm import DIR`, `eval` and `sample` take: the folder imported with its
// tokenizer.json, stored as a structlm checkpoint (arch "llama"), loaded back by
// zoo::load_any_model and run in float32. The logits are the reference's within 1e-4; decoding
// through the KV cache gives the logits of full passes; greedy sampling emits the tokens the
// reference's own cached greedy decoding chose.
class LlamaCheckpoint : public ::testing::TestWithParam<std::tuple<const char*, const char*, int>> {};

TEST_P(LlamaCheckpoint, StoredAndLoadedItGivesTheReferenceLogitsAndGreedyTokens) {
  const auto [arch, dtype, shards] = GetParam();
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference(arch, dtype, shards, dir)) << read_file(dir + ".log");
  auto imported = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  ASSERT_TRUE(imported.wrote_tokenizer) << imported.tokenizer_problem;
  EXPECT_EQ(text::Tokenizer::load(t / "tok").vocab_size(), 300u);
  model::save_checkpoint(t / "m.safetensors", imported.model, json{{"note", "test"}});
  auto loaded = zoo::load_any_model(t / "m.safetensors");
  ASSERT_EQ(loaded.arch, "llama");
  model::CausalLM& lm = loaded.lm();
  EXPECT_EQ(lm.vocabulary_rows(), 300);
  EXPECT_EQ(lm.context_length(), 256);

  formats::SafetensorsReader expected(dir + "/expected.safetensors");
  const torch::Tensor ids = read_tensor(expected, "input_ids", torch::kLong);
  const torch::Tensor want = read_tensor(expected, "logits", torch::kFloat32);
  torch::NoGradGuard g;
  const torch::Tensor got = lm.next_token_logits(ids, nullptr);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-4 * std::max(1.0, want.abs().max().item<double>())) << arch;

  // Incremental decoding: 5 positions, then 1, 4 and 2 more through the cache.
  model::KVCache cache;
  std::vector<torch::Tensor> parts;
  std::int64_t at = 0;
  for (std::int64_t n : {5, 1, 4, 2}) {
    parts.push_back(lm.next_token_logits(ids.slice(1, at, at + n), &cache));
    at += n;
  }
  EXPECT_EQ(cache.length(), 12);
  EXPECT_LT((torch::cat(parts, 1) - got).abs().max().item<double>(), 1e-5 * std::max(1.0, got.abs().max().item<double>()));

  const torch::Tensor greedy = read_tensor(expected, "greedy", torch::kLong);
  std::vector<text::TokenId> prompt;
  for (std::int64_t i = 0; i < 5; ++i) prompt.push_back(text::TokenId(ids[0][i].item<std::int64_t>()));
  eval::SampleOptions opt;
  opt.temperature = 0;
  opt.max_new_tokens = int(greedy.numel());
  opt.stop_at_eot = false;
  const auto tokens = eval::sample_tokens(lm, prompt, opt);
  ASSERT_EQ(tokens.size(), std::size_t(greedy.numel()));
  for (std::int64_t i = 0; i < greedy.numel(); ++i) EXPECT_EQ(std::int64_t(tokens[i]), greedy[i].item<std::int64_t>()) << i;

  // bf16 autocast (what `--precision bf16` runs): the same model within bf16's precision, not
  // the same bits.
  {
    model::AutocastGuard bf16(model::Precision::bf16, torch::kCPU);
    const torch::Tensor low = lm.next_token_logits(ids, nullptr).to(torch::kFloat32);
    const double err = (low - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
    EXPECT_LT(err, 5e-2 * scale) << arch;
    EXPECT_GT(err, 1e-6 * scale) << arch << ": autocast did not run in bf16";
  }

  // The GPT-only readers name the architecture instead of failing on its config.
  const std::string e = error_of([&] { model::read_checkpoint(t / "m.safetensors"); });
  EXPECT_NE(e.find("holds a llama model"), std::string::npos) << e;
}

INSTANTIATE_TEST_SUITE_P(Archs, LlamaCheckpoint,
                         ::testing::Values(std::make_tuple("llama", "f32", 2), std::make_tuple("llama3", "f32", 1),
                                           std::make_tuple("qwen2", "bf16", 1),
                                           std::make_tuple("tinyllama-like", "f16", 1)));

TEST(LlamaImport, AFolderWithoutAUsableTokenizerImportsTheModelAndSaysWhy) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama", "f32", 1, dir)) << read_file(dir + ".log");
  std::string tok = read_file(dir + "/hf/tokenizer.json");
  const auto at = tok.find("\"normalizer\": null");
  ASSERT_NE(at, std::string::npos);
  tok.replace(at, std::strlen("\"normalizer\": null"), "\"normalizer\": {\"type\": \"NFKC\"}");
  write_file_atomic(dir + "/hf/tokenizer.json", tok);
  auto imported = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  EXPECT_FALSE(imported.wrote_tokenizer);
  EXPECT_NE(imported.tokenizer_problem.find("NFKC"), std::string::npos) << imported.tokenizer_problem;
  EXPECT_FALSE(std::filesystem::exists(t / "tok"));
  EXPECT_TRUE(imported.model);
}

// Export writes a folder import_hf_llama reads back as the same model: exactly in F32, each
// weight rounded once to bf16 in BF16; config.json and tokenizer.json go with it.
TEST(LlamaExport, TheFolderReadsBackAsTheSameModel) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("qwen2", "f32", 1, dir)) << read_file(dir + ".log");
  auto imported = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  ASSERT_TRUE(imported.wrote_tokenizer);
  std::filesystem::create_directories(t / "f32");
  std::filesystem::create_directories(t / "bf16");
  interop::export_hf_llama(imported.model, t / "tok", t / "f32/model.safetensors", interop::FloatType::F32);
  interop::export_hf_llama(imported.model, "", t / "bf16/model.safetensors", interop::FloatType::BF16);
  EXPECT_EQ(read_file(t / "f32/tokenizer.json"), read_file(dir + "/hf/tokenizer.json"));
  EXPECT_FALSE(std::filesystem::exists(t / "bf16/tokenizer.json"));
  EXPECT_NE(read_file(t / "bf16/config.json").find("\"torch_dtype\": \"bfloat16\""), std::string::npos);
  auto f32 = interop::import_hf_llama(t / "f32");
  auto bf16 = interop::import_hf_llama(t / "bf16");
  auto want = imported.model->named_parameters();
  auto got32 = f32->named_parameters(), got16 = bf16->named_parameters();
  ASSERT_EQ(got32.size(), want.size());
  for (auto& item : want) {
    EXPECT_TRUE(torch::equal(got32[item.key()], item.value())) << item.key();
    EXPECT_TRUE(torch::equal(got16[item.key()], item.value().to(torch::kBFloat16).to(torch::kFloat32))) << item.key();
  }
  EXPECT_EQ(f32->config().qkv_bias_only, true);
  EXPECT_EQ(f32->config().tie_word_embeddings, true);
}

// llama.cpp's `llama` GGUF (the reference writes it as convert_hf_to_gguf.py does: q/k rows
// permuted into adjacent pairs, 1-D tensors F32, matrices F32 or F16, the tiny vocabulary in the
// metadata) reads back as the Hugging Face folder's model: the same logits, the same tokenizer.
class LlamaGguf : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(LlamaGguf, ImportedModelGivesTheReferenceLogits) {
  const auto [arch, dtype] = GetParam();
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference(arch, dtype, 1, dir)) << read_file(dir + ".log");
  auto imported = interop::import_gguf_llama(dir + "/model.gguf", t / "tok");
  ASSERT_TRUE(imported.wrote_tokenizer) << imported.tokenizer_problem;
  // f16 matrices in the GGUF of an f16 reference are the same values; f32 the same too.
  EXPECT_LT(reference_logit_error(imported.model, dir), 1e-5) << arch << " " << dtype;
  // The tokenizer the file carries encodes as the folder's tokenizer.json does.
  const auto from_gguf = text::Tokenizer::load(t / "tok");
  const auto from_json = text::Tokenizer::load_hf(dir + "/hf/tokenizer.json");
  const std::string sample = "the cat sat on the mat, then the dog ran in the rain: 123 tents!";
  EXPECT_EQ(from_gguf.encode(sample), from_json.encode(sample));
  EXPECT_EQ(from_gguf.vocab_size(), from_json.vocab_size());
}

INSTANTIATE_TEST_SUITE_P(Archs, LlamaGguf,
                         ::testing::Values(std::make_tuple("llama", "f32"), std::make_tuple("mistral", "f32"),
                                           std::make_tuple("tinyllama-like", "f16")));

TEST(LlamaGgufImport, WhatItCannotReadIsNamed) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama3", "f32", 1, dir)) << read_file(dir + ".log");
  std::string e = error_of([&] { interop::import_gguf_llama(dir + "/model.gguf", ""); });
  EXPECT_NE(e.find("rope_freqs.weight"), std::string::npos) << e;
  // A truncated file: the parser names it.
  const std::string bytes = read_file(dir + "/model.gguf");
  write_file_atomic(t / "cut.gguf", bytes.substr(0, bytes.size() / 2));
  e = error_of([&] { interop::import_gguf_llama(t / "cut.gguf", ""); });
  EXPECT_NE(e.find("cut.gguf"), std::string::npos) << e;
}

// GGUF export (issue 16): the Hugging Face folder imported and written back as GGUF is the file
// the reference writes as llama.cpp's converter does (every tensor's name, ne, type and bytes;
// the hyperparameters and the vocabulary), and it imports back to the reference's logits.
class LlamaGgufExport : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(LlamaGgufExport, IsTheConvertersFileAndReadsBack) {
  const auto [arch, dtype] = GetParam();
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference(arch, dtype, 1, dir)) << read_file(dir + ".log");
  auto folder = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  ASSERT_TRUE(folder.wrote_tokenizer) << folder.tokenizer_problem;
  const auto ftype = std::string(dtype) == "f16" ? interop::FloatType::F16 : interop::FloatType::F32;
  interop::export_gguf_llama(folder.model, t / "tok", t / "out.gguf", ftype, "structlm-tiny");

  MappedFile ref_file(dir + "/model.gguf"), our_file(t / "out.gguf");
  const auto ref = formats::parse_gguf(ref_file.data(), ref_file.size(), "ref");
  const auto ours = formats::parse_gguf(our_file.data(), our_file.size(), "ours");
  ASSERT_EQ(ours.tensors.size(), ref.tensors.size());
  for (const auto& r : ref.tensors) {
    const auto* o = ours.find_tensor(r.name);
    ASSERT_NE(o, nullptr) << r.name;
    EXPECT_EQ(o->ne, r.ne) << r.name;
    EXPECT_EQ(o->type, r.type) << r.name;
    const std::size_t n = r.nbytes;
    ASSERT_EQ(o->nbytes, r.nbytes) << r.name;
    EXPECT_EQ(std::memcmp(our_file.data() + ours.data_offset + o->offset, ref_file.data() + ref.data_offset + r.offset, n), 0)
        << r.name << ": bytes differ";
  }
  for (const char* key : {"llama.block_count", "llama.context_length", "llama.embedding_length", "llama.feed_forward_length",
                          "llama.attention.head_count", "llama.attention.head_count_kv", "general.file_type",
                          "llama.vocab_size", "llama.rope.dimension_count", "tokenizer.ggml.bos_token_id",
                          "tokenizer.ggml.eos_token_id"})
    EXPECT_EQ(ours.get_uint(key), ref.get_uint(key)) << key;
  for (const char* key : {"llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon"})
    EXPECT_EQ(ours.get_float(key), ref.get_float(key)) << key;
  // The head size: key_length where a file gives it, else embedding_length / head_count (the
  // converter writes key_length whenever config.json names head_dim, even when it is implied).
  auto head_size = [](const formats::GgufFile& f) {
    return f.find("llama.attention.key_length") ? f.get_uint("llama.attention.key_length")
                                                : f.get_uint("llama.embedding_length") / f.get_uint("llama.attention.head_count");
  };
  EXPECT_EQ(head_size(ours), head_size(ref));
  EXPECT_EQ(ours.get_string_array("tokenizer.ggml.tokens"), ref.get_string_array("tokenizer.ggml.tokens"));
  EXPECT_EQ(ours.get_int_array("tokenizer.ggml.token_type"), ref.get_int_array("tokenizer.ggml.token_type"));
  EXPECT_EQ(ours.get_string_array("tokenizer.ggml.merges"), ref.get_string_array("tokenizer.ggml.merges"));
  EXPECT_EQ(ours.get_string("tokenizer.ggml.pre"), "gpt-2");  // the reference says "default": the same regex

  if (std::string(arch) == "llama3") {
    // rope_freqs.weight is written (compared byte for byte above) but not read back yet.
    ASSERT_NE(ours.find_tensor("rope_freqs.weight"), nullptr);
    EXPECT_NE(error_of([&] { interop::import_gguf_llama(t / "out.gguf", ""); }).find("rope_freqs.weight"),
              std::string::npos);
    return;
  }
  auto back = interop::import_gguf_llama(t / "out.gguf", t / "tok2");
  ASSERT_TRUE(back.wrote_tokenizer) << back.tokenizer_problem;
  EXPECT_LT(reference_logit_error(back.model, dir), 1e-5) << arch;
}

// llama3: Llama 3's rope scaling, written as the converter's rope_freqs.weight.
INSTANTIATE_TEST_SUITE_P(Archs, LlamaGgufExport,
                         ::testing::Values(std::make_tuple("llama", "f32"), std::make_tuple("mistral", "f32"),
                                           std::make_tuple("tinyllama-like", "f16"), std::make_tuple("llama3", "f32")));

TEST(LlamaGgufExport, WhatItCannotWriteIsNamed) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("qwen2", "f32", 1, dir)) << read_file(dir + ".log");
  auto folder = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  std::string e = error_of([&] { interop::export_gguf_llama(folder.model, t / "tok", t / "q.gguf", interop::FloatType::F32, "q"); });
  EXPECT_NE(e.find("qwen2"), std::string::npos) << e;
  EXPECT_FALSE(file_exists(t / "q.gguf"));
  const std::string dir1 = t / "ref1";
  ASSERT_TRUE(make_reference("llama", "f32", 1, dir1)) << read_file(dir1 + ".log");
  auto l1 = interop::import_hf_llama_folder(dir1 + "/hf", t / "tok1");
  e = error_of([&] { interop::export_gguf_llama(l1.model, "", t / "l1.gguf", interop::FloatType::F32, "l1"); });
  EXPECT_NE(e.find("tokenizer"), std::string::npos) << e;
  EXPECT_FALSE(file_exists(t / "l1.gguf"));
}
