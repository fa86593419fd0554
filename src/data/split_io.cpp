// Splits on disk: DIR/{train,val,test}.jsonl ({"id", "text"} a line) and DIR/split.json, written
// last, which lists the ids of every split. split.json is the commit mark: if it exists the split
// is complete, and later runs read it back instead of recomputing, so a corpus that changes later
// (a new npm version, an edited file) cannot silently change a finished experiment's data.
// Everything here streams: a split is written document by document (SplitWriter) and its
// split.json assembled from a temporary file of ids, so preparing a corpus of any size holds one
// document at a time.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "data/dedup.h"
#include "data/split.h"

namespace fs = std::filesystem;

namespace structlm::data {
namespace {

constexpr const char* kSplitNames[] = {"train", "val", "test"};

std::vector<Document>& part(SplitCorpus& s, int i) { return i == 0 ? s.train : i == 1 ? s.val : s.test; }

// Packaged names stay as they are; paths compare by their canonical form.
std::string normalize_spec(const std::string& spec) {
  for (const auto& name : packaged_corpus_names())
    if (spec == name) return spec;
  std::error_code ec;
  auto p = fs::weakly_canonical(spec, ec);
  return ec ? spec : p.string();
}

std::string dump_line(const json& j) {
  // JSON cannot hold invalid UTF-8; replacing it (U+FFFD) beats refusing a whole corpus for one
  // stray byte. prepare_split returns what it reads back, so runs always agree.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<Document> read_jsonl(const std::string& path) {
  std::vector<Document> docs;
  for_each_jsonl_document(path, [&](Document&& d) { docs.push_back(std::move(d)); });
  return docs;
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// data::SplitWriter's work (split.h says what it does).
class StreamedSplit {
 public:
  StreamedSplit(const std::string& dir, std::function<void(json&)> extra) : dir_(dir), extra_(std::move(extra)) {
    made_dir_ = !is_directory(dir);
    make_dirs(dir);
    remove_stale();
    const std::string suffix = ".tmp." + std::to_string(::getpid());
    for (int i = 0; i < 3; ++i) {
      tmp_[i] = path(std::string(kSplitNames[i]) + ".jsonl" + suffix);
      ids_tmp_[i] = path(std::string(".ids-") + kSplitNames[i] + suffix);
      open(out_[i], tmp_[i]);
      open(ids_[i], ids_tmp_[i]);
    }
  }
  StreamedSplit(const StreamedSplit&) = delete;
  StreamedSplit& operator=(const StreamedSplit&) = delete;
  ~StreamedSplit() { discard(); }

  void add(int part, Document&& d) {
    ++docs_[part];
    bytes_[part] += d.text.size();
    json id = std::move(d.id);
    ids_[part] << dump_line(id) << '\n';
    json j = {{"id", std::move(id)}, {"text", std::move(d.text)}};
    if (extra_) extra_(j);
    out_[part] << dump_line(j) << '\n';
  }

  // The three JSONL files into place, then DIR/split.json: `meta` plus the name, the document and
  // byte counts and the ids, laid out as json::dump(1) lays out the whole object.
  void commit(json meta, const std::string& name) {
    meta["format"] = "structlm-split";
    meta["version"] = 1;
    meta["name"] = name;
    for (int i = 0; i < 3; ++i) {
      meta["docs"][kSplitNames[i]] = docs_[i];
      meta["bytes"][kSplitNames[i]] = bytes_[i];
      close(out_[i], tmp_[i]);
      close(ids_[i], ids_tmp_[i]);
    }
    meta["ids"] = nullptr;  // a placeholder for the lists streamed in below
    const std::string text = meta.dump(1, ' ', false, json::error_handler_t::replace);
    // Strings are dumped with their newlines escaped, so this can only be the key itself.
    const std::string mark = "\n \"ids\": null";
    const auto at = text.find(mark);
    if (at == std::string::npos) fail(path("split.json"), "internal error: no place for the ids");
    for (int i = 0; i < 3; ++i) {
      fsync_path(tmp_[i]);
      rename_into(tmp_[i], path(std::string(kSplitNames[i]) + ".jsonl"));
    }
    write_file_atomic(path("split.json"), [&](std::ostream& out) {
      out.write(text.data(), std::streamsize(at));
      out << "\n \"ids\": {";
      bool first_key = true;
      for (int i : {2, 0, 1}) {  // the keys in json's (sorted) order: test, train, val
        out << (first_key ? "" : ",") << "\n  \"" << kSplitNames[i] << "\": [";
        first_key = false;
        std::ifstream in(ids_tmp_[i], std::ios::binary);
        if (!in) fail(ids_tmp_[i], "cannot open for reading");
        std::string line;
        bool first = true;
        while (std::getline(in, line)) {
          out << (first ? "\n   " : ",\n   ") << line;
          first = false;
        }
        if (in.bad()) fail(ids_tmp_[i], "read error");
        out << (first ? "]" : "\n  ]");
      }
      out << "\n }";
      out.write(text.data() + at + mark.size(), std::streamsize(text.size() - at - mark.size()));
      out << '\n';
    });
    for (const auto& p : ids_tmp_) std::remove(p.c_str());
    committed_ = true;
  }

  // Removes what this writer wrote (nothing once committed): for an error, or to start over.
  void discard() {
    if (committed_) return;
    for (int i = 0; i < 3; ++i) {
      if (out_[i].is_open()) out_[i].close();
      if (ids_[i].is_open()) ids_[i].close();
      std::remove(tmp_[i].c_str());
      std::remove(ids_tmp_[i].c_str());
    }
    if (made_dir_) {
      std::error_code ec;
      fs::remove(dir_, ec);  // only if empty
    }
    committed_ = true;
  }

  std::size_t docs(int part) const { return docs_[part]; }
  std::size_t bytes(int part) const { return bytes_[part]; }

 private:
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  // A run that was killed (Ctrl-C, out of memory) could not remove its temporary files: those of
  // a process that is gone are removed now; a running one's are left alone.
  void remove_stale() const {
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::end(it); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      const auto at = name.rfind(".tmp.");
      if (at == std::string::npos || at + 5 >= name.size()) continue;
      const std::string stem = name.substr(0, at), pid = name.substr(at + 5);
      if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
      bool ours = false;
      for (const char* part : kSplitNames)
        ours = ours || stem == std::string(part) + ".jsonl" || stem == std::string(".ids-") + part;
      if (ours && ::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
    }
  }
  static void open(std::ofstream& out, const std::string& p) {
    out.open(p, std::ios::binary | std::ios::trunc);
    if (!out) fail(p, "cannot open for writing (" + std::string(std::strerror(errno)) + ")");
  }
  static void close(std::ofstream& out, const std::string& p) {
    out.flush();
    if (!out) fail(p, "write failed (disk full?)");
    out.close();
  }
  static void rename_into(const std::string& from, const std::string& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0)
      fail(to, "cannot rename temp file into place (" + std::string(std::strerror(errno)) + ")");
  }
  std::string dir_;
  std::function<void(json&)> extra_;
  bool made_dir_ = false, committed_ = false;
  std::string tmp_[3], ids_tmp_[3];
  std::ofstream out_[3], ids_[3];
  std::size_t docs_[3] = {0, 0, 0}, bytes_[3] = {0, 0, 0};
};

// split.json without its lists of ids (which hold one entry per document): a parse that drops
// them as it goes, from the file, not from a copy of it in memory.
json read_split_meta(const std::string& meta_path) {
  if (!file_exists(meta_path)) fail(meta_path, "not found: no prepared split in this directory");
  std::ifstream in(meta_path, std::ios::binary);
  if (!in) fail(meta_path, "cannot open for reading");
  json meta;
  try {
    meta = json::parse(in, [](int depth, json::parse_event_t event, json& parsed) {
      return !(depth == 1 && event == json::parse_event_t::key && parsed == "ids");
    });
  } catch (const json::exception& e) {
    fail(meta_path, std::string("invalid JSON: ") + e.what());
  }
  if (!meta.is_object()) fail(meta_path, "expected a JSON object");
  return meta;
}

}  // namespace

struct SplitWriter::Impl : StreamedSplit {
  using StreamedSplit::StreamedSplit;
};
SplitWriter::SplitWriter(const std::string& dir, std::function<void(json&)> extra)
    : impl_(std::make_unique<Impl>(dir, std::move(extra))) {}
SplitWriter::~SplitWriter() = default;
void SplitWriter::add(int part, Document&& d) { impl_->add(part, std::move(d)); }
void SplitWriter::commit(json meta, const std::string& name) { impl_->commit(std::move(meta), name); }
void SplitWriter::discard() { impl_->discard(); }
std::size_t SplitWriter::docs(int part) const { return impl_->docs(part); }
std::size_t SplitWriter::bytes(int part) const { return impl_->bytes(part); }

void for_each_jsonl_line(const std::string& path, const std::function<void(json& line)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      fail(path, "line " + std::to_string(lineno) + ": invalid JSON at byte " + std::to_string(e.byte));
    } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
      fail(path, "line " + std::to_string(lineno) + ": invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("text") || !j["text"].is_string())
      fail(path, "line " + std::to_string(lineno) + ": expected {\"id\": string, \"text\": string}");
    fn(j);
  }
  if (in.bad()) fail(path, "read error after line " + std::to_string(lineno));
}

void for_each_jsonl_document(const std::string& path, const std::function<void(Document&& doc)>& fn) {
  for_each_jsonl_line(path, [&](json& j) {
    fn({std::move(j["id"].get_ref<std::string&>()), std::move(j["text"].get_ref<std::string&>())});
  });
}

SplitCorpus load_split(const std::string& dir) {
  std::string meta_path = (fs::path(dir) / "split.json").string();
  if (!file_exists(meta_path)) fail(meta_path, "not found: no prepared split in this directory");
  json meta = load_json(meta_path);
  if (!meta.is_object() || !meta.contains("ids") || !meta["ids"].is_object())
    fail(meta_path, "missing object 'ids'");
  SplitCorpus s;
  read_field(meta, "name", s.name, meta_path);
  for (int i = 0; i < 3; ++i) {
    const char* name = kSplitNames[i];
    const json& ids = meta["ids"].value(name, json());
    if (!ids.is_array()) fail(meta_path, std::string("field 'ids.") + name + "' must be an array of ids");
    std::string path = (fs::path(dir) / (std::string(name) + ".jsonl")).string();
    auto& docs = part(s, i);
    docs = read_jsonl(path);
    // The ids are the contract; a file that disagrees was edited or half-copied.
    if (docs.size() != ids.size())
      fail(path, "holds " + std::to_string(docs.size()) + " documents but split.json lists " +
                     std::to_string(ids.size()));
    for (std::size_t k = 0; k < docs.size(); ++k)
      if (!ids[k].is_string() || docs[k].id != ids[k].get<std::string>())
        fail(path, "document " + std::to_string(k) + " has id '" + docs[k].id + "', split.json lists " + ids[k].dump());
  }
  return s;
}

SplitSummary read_split_summary(const std::string& dir) {
  const std::string meta_path = (fs::path(dir) / "split.json").string();
  const json meta = read_split_meta(meta_path);
  SplitSummary r;
  r.dir = dir;
  read_field(meta, "name", r.name, meta_path);
  for (int i = 0; i < 3; ++i) {
    if (meta.contains("docs")) read_field(meta["docs"], kSplitNames[i], r.docs[i], meta_path);
    if (meta.contains("bytes")) read_field(meta["bytes"], kSplitNames[i], r.bytes[i], meta_path);
  }
  if (meta.contains("dedup")) {
    r.dedup = true;
    read_field(meta["dedup"], "documents", r.documents_read, meta_path);
    read_field(meta["dedup"], "exact_removed", r.exact_removed, meta_path);
    read_field(meta["dedup"], "near_removed", r.near_removed, meta_path);
  } else {
    r.documents_read = r.docs[0] + r.docs[1] + r.docs[2];
  }
  return r;
}

SplitSummary ensure_split(const std::string& spec, const std::string& dir, const PrepareOptions& o,
                          const CorpusPaths& paths) {
  const SplitFractions& f = o.fractions;
  const std::string meta_path = (fs::path(dir) / "split.json").string();
  if (file_exists(meta_path)) {
    const json meta = read_split_meta(meta_path);
    unsigned long long old_seed = 0;
    double val = -1, test = -1;
    std::string old_spec;
    read_field(meta, "seed", old_seed, meta_path);
    read_field(meta, "spec", old_spec, meta_path);
    if (meta.contains("fractions")) {
      read_field(meta["fractions"], "val", val, meta_path);
      read_field(meta["fractions"], "test", test, meta_path);
    }
    // Reusing a split made for another corpus or seed would silently train on the wrong data.
    if (old_seed != o.seed || std::fabs(val - f.val) > 1e-12 || std::fabs(test - f.test) > 1e-12 ||
        normalize_spec(old_spec) != normalize_spec(spec))
      fail(meta_path, "was prepared from '" + old_spec + "' with seed " + std::to_string(old_seed) +
                          ", val " + std::to_string(val) + ", test " + std::to_string(test) +
                          "; requested '" + spec + "' with seed " + std::to_string(o.seed) + ", val " +
                          std::to_string(f.val) + ", test " + std::to_string(f.test) +
                          ". Use another directory or delete this one.");
    // Asked for without duplicates, a split that kept them is not what was asked; the other way
    // round is fine (a later `train --corpus` uses whatever `prepare --dedup` made).
    if (o.dedup && !meta.contains("dedup"))
      fail(meta_path, "was prepared without removing duplicates; delete " + dir + " to prepare it with --dedup");
    return read_split_summary(dir);
  }

  SplitAssigner first_pass(f, o.seed);  // checks the fractions before anything is read
  const std::uint64_t input_bytes = o.progress_bytes ? corpus_input_bytes(spec) : 0;
  const bool show = o.progress_bytes && input_bytes >= o.progress_bytes;
  // One pass over the input; a second only when the tiny-corpus rule moves a document (a corpus of
  // a handful of documents), with those moves given.
  struct Read {
    std::size_t documents = 0;  // read, duplicates included
    DedupCounts dedup;
  };
  auto pass = [&](SplitAssigner& assign, const std::vector<std::pair<std::size_t, int>>& moves,
                  SplitWriter& out, Read& read) {
    std::unique_ptr<Deduplicator> dedup;
    if (o.dedup) dedup = std::make_unique<Deduplicator>();
    std::unique_ptr<Progress> progress;
    if (show)
      progress = std::make_unique<Progress>("prepare " + fs::path(spec).filename().string() + " (MB)",
                                            std::int64_t(input_bytes / 1000000 + 1), 5.0);
    auto fields = [&] {
      std::string s = std::to_string(read.documents) + " documents";
      if (dedup) s += ", " + std::to_string(dedup->counts().exact + dedup->counts().near) + " duplicates";
      return s;
    };
    Corpus head = stream_corpus(
        spec, paths,
        [&](Document&& d) {
          ++read.documents;
          if (dedup && dedup->add(d.text) != Deduplicator::Verdict::keep) return;
          const std::size_t index = assign.size();
          int part = assign.place(d.id);
          for (const auto& m : moves)
            if (m.first == index) part = m.second;
          out.add(part, std::move(d));
        },
        [&](std::uint64_t done, std::uint64_t) {
          if (progress) progress->update(std::int64_t(done / 1000000), fields());
        });
    if (progress) progress->finish(fields());
    if (dedup) read.dedup = dedup->counts();
    return head;
  };
  auto out = std::make_unique<SplitWriter>(dir, nullptr);
  Read read;
  Corpus head = pass(first_pass, {}, *out, read);
  const auto moves = first_pass.moves();
  if (!moves.empty()) {
    out.reset();  // removes the first pass's files
    out = std::make_unique<SplitWriter>(dir, nullptr);
    SplitAssigner second_pass(f, o.seed);
    read = Read{};
    head = pass(second_pass, moves, *out, read);
  }
  // The spec as an absolute path (packaged names as they are): the split is found again from any
  // working directory, whichever relative path names the same file then.
  json meta = {{"spec", normalize_spec(spec)},
               {"source", head.source},
               {"seed", o.seed},
               {"fractions", {{"val", f.val}, {"test", f.test}}}};
  if (o.dedup) {
    const DedupOptions d;
    meta["dedup"] = {{"documents", read.documents},
                     {"exact_removed", read.dedup.exact},
                     {"near_removed", read.dedup.near},
                     {"shingle_words", d.shingle_words},
                     {"near_threshold", d.threshold}};
  }
  out->commit(std::move(meta), head.name);
  return read_split_summary(dir);
}

SplitCorpus prepare_split(const std::string& spec, const std::string& dir, const SplitFractions& f,
                          unsigned long long seed, const CorpusPaths& paths) {
  PrepareOptions o;
  o.fractions = f;
  o.seed = seed;
  ensure_split(spec, dir, o, paths);
  return load_split(dir);
}

void write_split(const std::string& dir, const SplitCorpus& s, json meta, const std::function<void(json&)>& extra) {
  SplitWriter out(dir, extra);
  for (int i = 0; i < 3; ++i)
    for (const auto& d : i == 0 ? s.train : i == 1 ? s.val : s.test) out.add(i, Document(d));
  out.commit(std::move(meta), s.name);
}

}  // namespace structlm::data
