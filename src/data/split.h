// Deterministic train/validation/test splits by document. A document's split depends only on a
// hash of (seed, document id), so it never changes when other documents are added or reordered.
// `prepare` writes the split once (split.json + one JSONL file per split) and later runs reuse it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
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

// split_corpus's rule, one document at a time (what split_corpus and ensure_split both use). A
// document goes where its draw puts it: u < val to val, u < val + test to test, the rest to train.
// After the last one, moves() gives what the tiny-corpus rule changes: with 3 or more documents,
// each wanted split left empty (val, then test, then train) takes the document of a split holding
// 2 or more whose draw lies nearest its interval (ties: the smaller id). To know that, the
// assigner keeps the 3 nearest documents of each split to each interval: constant memory.
class SplitAssigner {
 public:
  SplitAssigner(const SplitFractions& f, unsigned long long seed);  // Error for bad fractions
  int place(const std::string& id);  // 0 train, 1 val, 2 test; the document's index is the count before
  // (index, split) for each document the tiny-corpus rule moves, in the order moved (at most 2).
  std::vector<std::pair<std::size_t, int>> moves() const;
  std::size_t size() const { return n_; }

 private:
  struct Candidate {
    double u;
    std::string id;
    std::size_t index;
  };
  double distance(double u, int target) const;
  bool nearer(const Candidate& a, const Candidate& b, int target) const;
  SplitFractions f_;
  unsigned long long seed_;
  std::size_t n_ = 0, count_[3] = {0, 0, 0};
  std::vector<Candidate> nearest_[3][3];  // [target split][split it is in], nearest first
};

// Writes DIR/split.json (ids per split, seed, fractions, source) and DIR/{train,val,test}.jsonl,
// atomically. If DIR/split.json exists, it is read back instead and nothing is recomputed.
// ensure_split, then load_split: the whole split in memory (ensure_split alone does not read it).
SplitCorpus prepare_split(const std::string& spec, const std::string& dir, const SplitFractions& f = {},
                          unsigned long long seed = 1234, const CorpusPaths& paths = {});

// How a corpus is prepared: its split, and whether duplicates are removed first.
struct PrepareOptions {
  SplitFractions fractions;
  unsigned long long seed = 1234;
  // Remove exact and near duplicates (data::Deduplicator, default options) before splitting; the
  // first of each group stays. Recorded in split.json ("dedup"); off by default, so the packaged
  // corpora's splits stay as they always were (the mix removes duplicates across its sources).
  bool dedup = false;
  // A progress line with ETA on stderr when the input (a user's file or directory) is at least
  // this many bytes; 0 never.
  std::uint64_t progress_bytes = std::uint64_t(64) << 20;
};

// What a prepared split holds, read from its split.json (not its documents).
struct SplitSummary {
  std::string name, dir;
  std::size_t docs[3] = {0, 0, 0}, bytes[3] = {0, 0, 0};  // train, val, test
  bool dedup = false;
  std::size_t documents_read = 0, exact_removed = 0, near_removed = 0;  // with dedup
};

// The split of `spec` in DIR, made once, as a stream: documents are read one at a time
// (data::stream_corpus), each goes to its split by document_draw(seed, id) (as split_corpus
// places it, the tiny-corpus rule included: when that rule moves a document, the input is read a
// second time), and is appended to that split's file; what stays in memory is the duplicate-id
// hashes, the deduplicator's signatures when `dedup` is set (data/dedup.h: a few hundred bytes per
// kept document), and the split.json ids, which go to a temporary file. The files are written
// under temporary names and renamed into place at the end, split.json last: an error (a malformed
// line, a file that is not text) leaves nothing new in DIR. The same input gives byte-identical
// files, the same as write_split(split_corpus(load_corpus(spec))) gives. If DIR/split.json exists,
// it is checked against the request (spec, seed, fractions; dedup when asked for) and reused.
SplitSummary ensure_split(const std::string& spec, const std::string& dir, const PrepareOptions& o = {},
                          const CorpusPaths& paths = {});
SplitSummary read_split_summary(const std::string& dir);  // from DIR/split.json, ids not read
SplitCorpus load_split(const std::string& dir);  // error naming the file if missing/malformed
// Calls fn(line) for every document line of a split's JSONL file, one line in memory at a time;
// a line that is not {"id": string, "text": string, ...} is an error naming the file and line.
void for_each_jsonl_line(const std::string& path, const std::function<void(json& line)>& fn);
void for_each_jsonl_document(const std::string& path, const std::function<void(Document&& doc)>& fn);
// A split written as a stream (what ensure_split, write_split and the mix write with): each
// document appended to its split's file (0 train, 1 val, 2 test) as {"id", "text"} plus what
// `extra` adds, its id to a temporary list, all under temporary names in DIR (NAME.tmp.PID);
// commit() renames the three JSONL files into place and writes DIR/split.json last (the commit
// mark): `meta` plus the name, the document and byte counts and the ids, laid out as one
// json::dump(1) of the whole object would be. Destroyed without commit(), it removes its files,
// and DIR when it made DIR and nothing else is in it: an error leaves nothing half-written.
// Temporary files of a process that is gone (a killed run) are removed when one is made.
class SplitWriter {
 public:
  explicit SplitWriter(const std::string& dir, std::function<void(json&)> extra = {});
  ~SplitWriter();
  SplitWriter(const SplitWriter&) = delete;
  SplitWriter& operator=(const SplitWriter&) = delete;
  void add(int part, Document&& d);
  void commit(json meta, const std::string& name);
  void discard();  // removes what it wrote (nothing once committed)
  std::size_t docs(int part) const;
  std::size_t bytes(int part) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a split as prepare_split does: the three JSONL files, then DIR/split.json (the commit
// mark) holding `meta` plus the name, ids, document and byte counts. `extra`, when given, adds
// fields to each document's line (the mix corpus adds its source and licence).
void write_split(const std::string& dir, const SplitCorpus& s, json meta, const std::function<void(json&)>& extra = {});

}  // namespace structlm::data
