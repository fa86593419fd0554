// Splits on disk: DIR/{train,val,test}.jsonl ({"id", "text"} a line) and DIR/split.json, written
// last, which lists the ids of every split. split.json is the commit mark: if it exists the split
// is complete, and later runs read it back instead of recomputing, so a corpus that changes later
// (a new npm version, an edited file) cannot silently change a finished experiment's data.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
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

void write_jsonl(const std::string& path, const std::vector<Document>& docs, const std::function<void(json&)>& extra) {
  write_file_atomic(path, [&](std::ostream& out) {
    for (const auto& d : docs) {
      json j = {{"id", d.id}, {"text", d.text}};
      if (extra) extra(j);
      // JSON cannot hold invalid UTF-8; replacing it (U+FFFD) beats refusing a whole corpus for
      // one stray byte. prepare_split returns what it reads back, so runs always agree.
      out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    }
  });
}

std::vector<Document> read_jsonl(const std::string& path) {
  std::vector<Document> docs;
  for_each_jsonl_document(path, [&](Document&& d) { docs.push_back(std::move(d)); });
  return docs;
}

}  // namespace

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

SplitCorpus prepare_split(const std::string& spec, const std::string& dir, const SplitFractions& f,
                          unsigned long long seed, const CorpusPaths& paths) {
  std::string meta_path = (fs::path(dir) / "split.json").string();
  if (file_exists(meta_path)) {
    json meta = load_json(meta_path);
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
    if (old_seed != seed || std::fabs(val - f.val) > 1e-12 || std::fabs(test - f.test) > 1e-12 ||
        normalize_spec(old_spec) != normalize_spec(spec))
      fail(meta_path, "was prepared from '" + old_spec + "' with seed " + std::to_string(old_seed) +
                          ", val " + std::to_string(val) + ", test " + std::to_string(test) +
                          "; requested '" + spec + "' with seed " + std::to_string(seed) + ", val " +
                          std::to_string(f.val) + ", test " + std::to_string(f.test) +
                          ". Use another directory or delete this one.");
    return load_split(dir);
  }
  Corpus corpus = load_corpus(spec, paths);
  SplitCorpus s = split_corpus(corpus, f, seed);
  // The spec as an absolute path (packaged names as they are): the split is found again from any
  // working directory, whichever relative path names the same file then.
  write_split(dir, s,
              {{"spec", normalize_spec(spec)}, {"source", corpus.source}, {"seed", seed},
               {"fractions", {{"val", f.val}, {"test", f.test}}}});
  return load_split(dir);
}

void write_split(const std::string& dir, const SplitCorpus& s, json meta, const std::function<void(json&)>& extra) {
  make_dirs(dir);
  meta["format"] = "structlm-split";
  meta["version"] = 1;
  meta["name"] = s.name;
  for (int i = 0; i < 3; ++i) {
    const auto& docs = i == 0 ? s.train : i == 1 ? s.val : s.test;
    std::size_t bytes = 0;
    json ids = json::array();
    for (const auto& d : docs) {
      bytes += d.text.size();
      ids.push_back(d.id);
    }
    write_jsonl((fs::path(dir) / (std::string(kSplitNames[i]) + ".jsonl")).string(), docs, extra);
    meta["docs"][kSplitNames[i]] = docs.size();
    meta["bytes"][kSplitNames[i]] = bytes;
    meta["ids"][kSplitNames[i]] = std::move(ids);
  }
  write_file_atomic((fs::path(dir) / "split.json").string(), meta.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace structlm::data
