// Deterministic train/validation/test splits by document. A document's split depends only on a
// hash of (seed, document id), so it never changes when other documents are added or reordered.
// `prepare` writes the split once (split.json + one JSONL file per split) and later runs reuse it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/corpus.h"

namespace structlm::data {

struct SplitFractions {
  double val = 0.05, test = 0.05;  // the rest is train
};

struct SplitCorpus {
  std::string name;
  std::vector<Document> train, val, test;
};

// The draw in [0, 1) that places a document: a fixed hash of (seed, id), the same on every machine.
double document_draw(unsigned long long seed, const std::string& id);
SplitCorpus split_corpus(const Corpus& corpus, const SplitFractions& f = {}, unsigned long long seed = 1234);

// Writes DIR/split.json (ids per split, seed, fractions, source) and DIR/{train,val,test}.jsonl,
// atomically. If DIR/split.json exists, it is read back instead and nothing is recomputed.
SplitCorpus prepare_split(const std::string& spec, const std::string& dir, const SplitFractions& f = {},
                          unsigned long long seed = 1234, const CorpusPaths& paths = {});
SplitCorpus load_split(const std::string& dir);  // error naming the file if missing/malformed
// Calls fn(line) for every document line of a split's JSONL file, one line in memory at a time;
// a line that is not {"id": string, "text": string, ...} is an error naming the file and line.
void for_each_jsonl_line(const std::string& path, const std::function<void(json& line)>& fn);
void for_each_jsonl_document(const std::string& path, const std::function<void(Document&& doc)>& fn);
// Writes a split as prepare_split does: the three JSONL files, then DIR/split.json (the commit
// mark) holding `meta` plus the name, ids, document and byte counts. `extra`, when given, adds
// fields to each document's line (the mix corpus adds its source and licence).
void write_split(const std::string& dir, const SplitCorpus& s, json meta, const std::function<void(json&)>& extra = {});

}  // namespace structlm::data
