// The `mix` corpus: several packaged corpora, deduplicated across and within sources, split by
// document, and joined into one training set with declared proportions. Layout under DIR:
//   DIR/sources/NAME/{train,val,test}.jsonl, split.json   one source, duplicates removed: a split
//                                                          directory of its own, so a result can be
//                                                          reported per source (`mix:NAME`)
//   DIR/sources/NAME/source.json                          its counts; written last: the source is done
//   DIR/{train,val,test}.jsonl, split.json                the mix; train holds each source `weight` times
//   DIR/mix.json                                          the recipe and every source's counts
// Every JSONL line is {"id", "text", "source", "licence"}: the licence travels with the document.
//
// Streaming: one source is in memory at a time (plus about 1 KB of deduplication state per kept
// document), and each finished source is a checkpoint: an interrupted build resumes at the first
// source without a source.json, refilling the deduplicator from the finished sources' files.
// Reproducible: the same packages and recipe give byte-identical files. No torch here.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/corpus.h"
#include "data/dedup.h"
#include "data/split.h"

namespace structlm::data {

struct MixSource {
  std::string name;     // a packaged corpus (data::packaged_corpus_names())
  double weight = 1.0;  // copies of its training documents in the mix: 2 = each twice, 0.5 = half
                        // of them (a fixed subset chosen by a hash of the id)
};

// Read from configs/mix.json (mix_recipe_from_json): every key checked, unknown keys refused.
struct MixRecipe {
  std::vector<MixSource> sources;  // order matters: a duplicate is removed from the later source
  SplitFractions fractions{0.03, 0.03};
  unsigned long long seed = 1234;
  double max_share = 0.5;  // no source may hold more of the mix's training bytes than this
  DedupOptions dedup;
};
MixRecipe mix_recipe_from_json(const json& j, const std::string& path);
json to_json(const MixRecipe& r);
MixRecipe load_mix_recipe(const std::string& path);

struct MixSourceCounts {
  std::string name, licence, kind;
  std::size_t documents = 0;             // as the reader gave them
  std::size_t exact = 0, near = 0;       // removed as duplicates (of this source or an earlier one)
  std::size_t docs[3] = {0, 0, 0};       // kept, per split: train, val, test
  std::size_t bytes[3] = {0, 0, 0};
  double weight = 1.0;
  std::size_t mix_train_docs = 0, mix_train_bytes = 0;  // in the mix's train split, after weighting
  double seconds = 0;  // to read, clean, deduplicate and write it (this run only; not stored)
};
struct MixReport {
  std::vector<MixSourceCounts> sources;
  std::size_t train_bytes = 0, unique_train_bytes = 0;
};

// Builds (or resumes, or reads back) the mix in `dir`. A source that is not installed is named
// with the command that installs it, before anything is written. A finished mix whose recorded
// recipe differs from `recipe` is an error: delete it or use another directory.
// `log` gets a line per source (progress, ETA); pass {} for none.
MixReport build_mix(const MixRecipe& recipe, const CorpusPaths& paths, const std::string& dir,
                    const std::function<void(const std::string&)>& log = {});

// The counts of a finished mix (DIR/mix.json), or an error naming the file.
MixReport read_mix_report(const std::string& dir);

}  // namespace structlm::data
