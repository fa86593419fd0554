// `structlm train` with model.arch "llama" (issue 16), as a user runs it: trained on a small
// corpus with its own tokenizer, interrupted and continued with --auto-resume bit for bit, then
// evaluated, sampled and exported like any run; bad Llama keys are one line naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using structlm::json;

namespace {

using cli_test::run;
using cli_test::write_corpus;

class CliLlama : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return tmp / name; }
  structlm::test_util::TempDir tmp;
};

// A safetensors file's data section (after the header, which holds the metadata).
std::string tensor_bytes(const std::string& file) {
  const std::string f = structlm::read_file(file);
  std::uint64_t n = 0;
  std::memcpy(&n, f.data(), 8);
  return f.substr(8 + n);
}

}  // namespace

TEST_F(CliLlama, TrainAutoResumeThenEvalSampleAndExport) {
  const std::string corpus = write_corpus(path("toy.jsonl"));
  const std::string data = " --data-dir " + path("data");
  ASSERT_EQ(run("prepare " + corpus + data).code, 0);
  ASSERT_EQ(run("tokenizer train " + corpus + data + " --vocab-size 300 --out " + path("tok")).code, 0);
  structlm::write_file_atomic(path("llama.json"), R"({
    "model": {"arch": "llama", "block_size": 32, "n_layer": 1, "n_head": 4, "n_kv_head": 2, "n_embd": 32,
              "intermediate_size": 96, "tied": false},
    "train": {"batch_size": 4, "max_steps": 24, "warmup_steps": 4, "lr": 0.005, "eval_every": 12,
              "eval_batches": 2, "ckpt_every": 6, "log_every": 4, "threads": 1, "precision": "fp32"},
    "data": {}})");
  const std::string train = "train --config " + path("llama.json") + " --corpus " + corpus + " --tokenizer " + path("tok") + data;

  // --help lists the Llama keys.
  auto r = run("train --help");
  EXPECT_NE(r.out.find("model.n_kv_head"), std::string::npos) << r.out;

  // Stopped at step 12 as if interrupted, then the same command line with --auto-resume ...
  r = run(train + " --run-dir " + path("a") + " --auto-resume --set train.stop_at_step=12");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("model: llama,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 key/value heads"), std::string::npos) << r.out;
  r = run(train + " --run-dir " + path("a") + " --auto-resume");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trained 24 steps"), std::string::npos) << r.out;
  // ... ends where an uninterrupted run ends, tensor for tensor.
  r = run(train + " --run-dir " + path("b"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(tensor_bytes(path("a/checkpoints/latest.safetensors")) == tensor_bytes(path("b/checkpoints/latest.safetensors")))
      << "resumed run differs from the uninterrupted one";
  const json cfg = structlm::load_json(path("b/config.json"));
  EXPECT_EQ(cfg["model"]["arch"], "llama");
  EXPECT_EQ(cfg["model"]["vocab_size"], 300);  // the tokenizer's
  EXPECT_FALSE(cfg["model"].contains("dropout"));

  r = run("info " + path("b/checkpoints/latest.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("arch: \"llama\""), std::string::npos) << r.out;

  // Evaluated like any run: the tokenizer comes from the run's config.
  r = run("eval " + path("b") + " --corpus " + corpus + data + " --no-xz --json " + path("eval.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  const json ev = structlm::load_json(path("eval.json"));
  const double loss = ev["corpora"][0]["loss"].get<double>();
  std::printf("[ measured ] llama run, 24 steps: test loss %.3f (uniform guess %.3f)\n", loss, std::log(300.0));
  EXPECT_LT(loss, 0.75 * std::log(300.0)) << r.out;  // learned something: well below a uniform guess
  EXPECT_GT(ev["corpora"][0]["bits_per_byte"].get<double>(), 0.0);

  r = run("sample " + path("b") + " -p \"The cat\" -m 12 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The cat", 0), 0u) << r.out;
  EXPECT_EQ(run("sample " + path("b") + " -p \"The cat\" -m 12 --seed 3").out, r.out);

  // Exported as a Hugging Face folder (no tokenizer.json: the run's tokenizer is GPT-2-style
  // files) and imported back: the same loss with the run's tokenizer.
  r = run("export " + path("b") + " --out " + path("hf"));
  ASSERT_EQ(r.code, 0) << r.out;
  const json hf = structlm::load_json(path("hf/config.json"));
  EXPECT_EQ(hf["model_type"], "llama");
  EXPECT_EQ(hf["num_key_value_heads"], 2);
  EXPECT_EQ(hf["max_position_embeddings"], 32);
  EXPECT_EQ(hf["tie_word_embeddings"], false);
  r = run("import " + path("hf") + " --out " + path("again.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("eval " + path("again.safetensors") + " --tokenizer " + path("tok") + " --corpus " + corpus + data +
          " --no-xz --json " + path("eval2.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(structlm::load_json(path("eval2.json"))["corpora"][0]["loss"].get<double>(), loss);

  // Exported as GGUF (the run's GPT-2-style vocabulary in the file) and imported back with the
  // file's own tokenizer: the same loss.
  r = run("export " + path("b") + " --out " + path("b.gguf"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("import " + path("b.gguf") + " --out " + path("from-gguf.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("tokenizer: "), std::string::npos) << r.out;  // the file's vocabulary was taken
  r = run("eval " + path("from-gguf.safetensors") + " --corpus " + corpus + data + " --no-xz --json " + path("eval3.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(structlm::load_json(path("eval3.json"))["corpora"][0]["loss"].get<double>(), loss, 1e-9);

  // Two data-parallel ranks of one micro-batch train what one process of two does (the same
  // windows per step; equal up to the order of summation).
  r = run("launch --nproc 2 -- " + train + " --run-dir " + path("dp") + " --set train.max_steps=8");
  ASSERT_EQ(r.code, 0) << r.out;
  r = run(train + " --run-dir " + path("one") + " --set train.max_steps=8 --set train.grad_accum=2");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto dp = structlm::read_lines(path("dp/metrics.jsonl")), one = structlm::read_lines(path("one/metrics.jsonl"));
  ASSERT_EQ(dp.size(), one.size());
  for (std::size_t i = 0; i < dp.size(); ++i)
    if (!dp[i].empty() && json::parse(dp[i]).contains("loss"))
      EXPECT_NEAR(json::parse(dp[i])["loss"].get<double>(), json::parse(one[i])["loss"].get<double>(), 1e-5) << i;

  // HCMA's suite on a Llama: tests/cli/llama_align_cli_test.cpp.
}

// CSTDE's dependency-weighted attention on a Llama run: trained with the prior's use logged,
// evaluated and sampled from its checkpoint, and refused by name by both export formats, which
// have no place for its tensors.
TEST_F(CliLlama, CstdeAttentionRunEvaluatesSamplesAndRefusesExport) {
  const std::string corpus = write_corpus(path("toy.jsonl"));
  const std::string data = " --data-dir " + path("data");
  ASSERT_EQ(run("prepare " + corpus + data).code, 0);
  ASSERT_EQ(run("tokenizer train " + corpus + data + " --vocab-size 300 --out " + path("tok")).code, 0);
  structlm::write_file_atomic(path("llama.json"), R"({
    "model": {"arch": "llama", "block_size": 32, "n_layer": 2, "n_head": 4, "n_kv_head": 2, "n_embd": 32,
              "intermediate_size": 96, "tied": false,
              "cstde": {"attention": true, "rank": 8, "beta_init": 0.5, "lr_mult": 2}},
    "train": {"batch_size": 4, "max_steps": 6, "warmup_steps": 2, "lr": 0.005, "eval_every": 3,
              "eval_batches": 2, "ckpt_every": 6, "log_every": 3, "threads": 1, "precision": "bf16"},
    "data": {}})");
  auto r = run("train --config " + path("llama.json") + " --corpus " + corpus + " --tokenizer " + path("tok") + data +
               " --run-dir " + path("c"));
  ASSERT_EQ(r.code, 0) << r.out;
  int evals = 0;
  for (const auto& line : structlm::read_lines(path("c/metrics.jsonl"))) {
    if (line.empty() || !json::parse(line).contains("val_loss")) continue;
    ++evals;
    EXPECT_TRUE(json::parse(line).contains("prior_weight")) << line;
  }
  EXPECT_EQ(evals, 2);
  EXPECT_EQ(structlm::load_json(path("c/config.json"))["model"]["cstde"]["rank"], 8);

  r = run("eval " + path("c") + " --corpus " + corpus + data + " --no-xz --json " + path("eval.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_GT(structlm::load_json(path("eval.json"))["corpora"][0]["loss"].get<double>(), 0.0);
  r = run("sample " + path("c") + " -p \"The cat\" -m 8 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The cat", 0), 0u) << r.out;

  for (const char* out : {"hf", "c.gguf"}) {
    r = run("export " + path("c") + " --out " + path(out));
    EXPECT_EQ(r.code, 1) << out << ": " << r.out;
    EXPECT_NE(r.out.find("model.layers.0."), std::string::npos) << out << ": " << r.out;
    EXPECT_NE(r.out.find("cstde.attention"), std::string::npos) << out << ": " << r.out;
    EXPECT_FALSE(std::filesystem::exists(path(out) + "/model.safetensors")) << out;
  }
}

TEST_F(CliLlama, BadLlamaKeysNameTheKey) {
  structlm::write_file_atomic(path("llama.json"), R"({"model": {"arch": "llama", "n_layer": 1, "n_head": 2, "n_embd": 32},
    "train": {"max_steps": 2}, "data": {}})");
  struct Case {
    const char* set;
    const char* expect;
  } cases[] = {
      {"model.dropout=0.1", "'dropout'"},
      {"model.n_kv_head=3", "'n_kv_head' (3)"},
      {"model.cstde.rank=8", "'cstde.rank' belongs to CSTDE's attention, which is off"},
      {"model.arch=mamba", "'arch'"},
      {"model.rope_thetta=10", "unknown field 'rope_thetta'"},
  };
  for (const auto& c : cases) {
    auto r = run("train --config " + path("llama.json") + " --run-dir " + path("run") + " --set " + c.set);
    EXPECT_EQ(r.code, 1) << c.set << ": " << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.set << ": " << r.out;
    EXPECT_NE(r.out.find("llama.json"), std::string::npos) << c.set << ": " << r.out;
  }
  // A Llama key on a GPT.
  structlm::write_file_atomic(path("gpt.json"), R"({"model": {"n_layer": 1, "n_kv_head": 1}, "train": {}, "data": {}})");
  auto r = run("train --config " + path("gpt.json") + " --run-dir " + path("run"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("'n_kv_head' is a Llama field"), std::string::npos) << r.out;
}
