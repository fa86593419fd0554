// Deterministic train/validation/test splits by document. A document's split depends only on a
// hash of (seed, document id), so it never changes when other documents are added or reordered.
// `prepare` writes the split once (split.json + one JSONL file per split) and later runs reuse it.
#pragma once
#include <string>
#include <vector>

#include "data/corpus.h"

namespace structlm::data {

struct SplitFractions {
  double val = 0.05, test = 0.05;  // the rest is train
};

struct SplitCorpus {
  std::string name;
  std::vector<Document> train, val, test;
};

SplitCorpus split_corpus(const Corpus& corpus, const SplitFractions& f = {}, unsigned long long seed = 1234);

// Writes DIR/split.json (ids per split, seed, fractions, source) and DIR/{train,val,test}.jsonl,
// atomically. If DIR/split.json exists, it is read back instead and nothing is recomputed.
SplitCorpus prepare_split(const std::string& spec, const std::string& dir, const SplitFractions& f = {},
                          unsigned long long seed = 1234, const CorpusPaths& paths = {});
SplitCorpus load_split(const std::string& dir);  // error naming the file if missing/malformed

}  // namespace structlm::data
