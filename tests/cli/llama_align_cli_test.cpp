// `structlm align` on a Llama-family run (issue 16), as a user runs it: a tiny Llama trained a few
// steps on a small corpus with its own tokenizer, re-aligned by HCMA (with its LM term) and by the
// LM-loss baseline in capped windows (--context); every tensor but model.embed_tokens.weight is
// byte-identical to the source's (read here with the safetensors reader alone, no model code), the
// tied source comes back untied with its matrix as lm_head.weight, and the result evaluates like
// any run, HCMA's measurement suite (`eval --suite hcma`) included; `experiment hcma --model`
// takes it too.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "support/temp_dir.h"

using structlm::json;

namespace {

using cli_test::run;
using cli_test::write_corpus;

// The model's tensors of a safetensors file (a run's optimizer state, optim.*, left out: the
// aligned model does not carry it), as raw bytes.
std::map<std::string, std::string> tensor_bytes(const std::string& path) {
  structlm::formats::SafetensorsReader r(path);
  std::map<std::string, std::string> out;
  for (const auto& t : r.tensors())
    if (t.name.rfind("optim.", 0) != 0) out[t.name] = std::string(reinterpret_cast<const char*>(r.data(t)), t.nbytes());
  return out;
}

TEST(CliLlamaAlign, AlignKeepsEveryOtherTensorAndTheResultEvaluates) {
  structlm::test_util::TempDir tmp;
  auto path = [&](const std::string& name) { return std::string(tmp / name); };
  const std::string corpus = write_corpus(path("toy.jsonl"));
  const std::string data = " --data-dir " + path("data");
  ASSERT_EQ(run("prepare " + corpus + data).code, 0);
  ASSERT_EQ(run("tokenizer train " + corpus + data + " --vocab-size 300 --out " + path("tok")).code, 0);
  // configs/llama-tiny.json's shape (tied, grouped-query attention), smaller; a context of 64 is
  // what the suite's HotFlip sequences need.
  auto r = run("train --config " + std::string(STRUCTLM_SOURCE_DIR) + "/configs/llama-tiny.json --run-dir " + path("l") +
               " --corpus " + corpus + " --tokenizer " + path("tok") + data +
               " --set model.block_size=64 --set model.n_layer=2 --set model.n_embd=32 --set model.intermediate_size=64"
               " --set train.batch_size=4 --set train.max_steps=12 --set train.warmup_steps=2 --set train.eval_every=12"
               " --set train.eval_batches=1 --set train.ckpt_every=12 --set train.threads=1 --set train.precision=fp32");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto src = tensor_bytes(path("l/checkpoints/latest.safetensors"));
  ASSERT_TRUE(src.count("model.embed_tokens.weight"));
  ASSERT_FALSE(src.count("lm_head.weight"));  // tied

  for (const std::string method : {"hcma", "emb-finetune"}) {
    const std::string out = path(method + ".safetensors");
    r = run("align --method " + method + " --model " + path("l") + " --calib " + corpus + data + " --out " + out +
            " --threads 1 --set steps=8 --set depth=2 --set branching=2 --set lambda_lm=0.5" +
            (method == "emb-finetune" ? " --context 32" : ""));
    ASSERT_EQ(r.code, 0) << method << ": " << r.out;
    EXPECT_NE(r.out.find("(llama, V 300, d 32, tied)"), std::string::npos) << r.out;
    const auto got = tensor_bytes(out);
    EXPECT_EQ(structlm::formats::SafetensorsReader(out).tensors().size(), src.size() + 1) << method;  // + lm_head.weight
    for (const auto& [name, bytes] : src) {
      ASSERT_TRUE(got.count(name)) << method << " lost " << name;
      if (name == "model.embed_tokens.weight")
        EXPECT_NE(got.at(name), bytes) << method << " left the input table as it was";
      else
        EXPECT_EQ(got.at(name), bytes) << method << " changed " << name;
    }
    ASSERT_TRUE(got.count("lm_head.weight")) << method;
    EXPECT_EQ(got.at("lm_head.weight"), src.at("model.embed_tokens.weight")) << method << ": the output is the source's matrix";
    const json report = structlm::load_json(path(method + ".align/report.json"));
    EXPECT_EQ(report["method"], method);
    if (method == "emb-finetune") EXPECT_EQ(report["context"], 32) << "windows capped by --context";
    else EXPECT_FALSE(report.contains("context"));

    r = run("info " + out);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("arch: \"llama\""), std::string::npos) << r.out;
    r = run("eval " + out + " --corpus " + corpus + data + " --no-xz --json " + path(method + ".json"));
    ASSERT_EQ(r.code, 0) << r.out;
    const double loss = structlm::load_json(path(method + ".json"))["corpora"][0]["loss"].get<double>();
    EXPECT_TRUE(std::isfinite(loss)) << method;
    EXPECT_LT(loss, std::log(300.0)) << method;  // still a language model of this corpus
  }

  // HCMA's measurement suite on the source and on its HCMA alignment, as on a GPT: the input
  // table's geometry differs, the model's inference cost does not.
  std::map<std::string, json> suite;
  for (const std::string model : {path("l"), path("hcma.safetensors")}) {
    const std::string out = path(std::to_string(suite.size()) + "-suite.json");
    r = run("eval " + model + " --suite hcma --corpus " + corpus + " --long-corpus " + corpus + data +
            " --max-tokens 600 --tokenizer " + path("tok") + " --json " + out);
    ASSERT_EQ(r.code, 0) << model << ": " << r.out;
    suite[model] = structlm::load_json(out);
    EXPECT_TRUE(suite[model]["summary"]["rare_recall10"].is_number()) << suite[model].dump();
    EXPECT_TRUE(suite[model]["isotropy"].is_number()) << suite[model].dump();
  }
  EXPECT_NE(suite[path("l")]["isotropy"], suite[path("hcma.safetensors")]["isotropy"]);

  // The HCMA experiment on the Llama (--model): aligned, checked frozen on the files, measured.
  r = run("experiment hcma --quick --seeds 1 --methods hcma --model " + path("l") + " --tokenizer " + path("tok") +
          " --out " + path("exp") + data + " --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(structlm::load_json(path("exp/aligned/hcma-seed1.align/usage.json"))["frozen_weights_ok"], true);
  const std::string table = structlm::read_file(path("exp/hcma/table.md"));
  EXPECT_NE(table.find("| hcma | perplexity, all targets | 1 |"), std::string::npos) << table;
}

// The HCMA experiment training its own Llama: configs/hcma_quick.json with a Llama model section;
// the base run is a Llama, its alignments pass the frozen check and are measured.
TEST(CliLlamaAlign, TheExperimentTrainsAndAlignsALlama) {
  structlm::test_util::TempDir tmp;
  auto path = [&](const std::string& name) { return std::string(tmp / name); };
  json cfg = structlm::load_json(std::string(STRUCTLM_SOURCE_DIR) + "/configs/hcma_quick.json");
  cfg["model"] = {{"arch", "llama"}, {"block_size", 64}, {"n_layer", 2},          {"n_head", 4},
                  {"n_kv_head", 2},  {"n_embd", 64},     {"intermediate_size", 128}, {"tied", true}};
  cfg["train"]["max_steps"] = 20;
  structlm::save_json(path("llama_quick.json"), cfg);
  auto r = run("experiment hcma --config " + path("llama_quick.json") + " --seeds 1 --methods hcma --out " + path("exp") +
               " --data-dir " + path("data") + " --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(structlm::load_json(path("exp/base/config.json"))["model"]["arch"], "llama");
  EXPECT_EQ(structlm::load_json(path("exp/aligned/hcma-seed1.align/usage.json"))["frozen_weights_ok"], true);
  const std::string table = structlm::read_file(path("exp/hcma/table.md"));
  EXPECT_NE(table.find("| hcma | perplexity, all targets | 1 |"), std::string::npos) << table;
}

}  // namespace
