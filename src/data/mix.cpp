// Building the mix corpus (data/mix.h): per source, read -> drop what duplicates anything kept so
// far -> split by document -> write; then the weighted join, streamed source by source.
#include "data/mix.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "data/sources.h"

namespace fs = std::filesystem;

namespace structlm::data {
namespace {

constexpr const char* kSplitNames[] = {"train", "val", "test"};
// Weighting draws from its own stream, so which documents a fractional weight keeps is
// unrelated to which split they fell in.
constexpr unsigned long long kWeightStream = 0x6d69782d77656967ull;  // "mix-weig"

std::string source_dir(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / "sources" / name).string();
}

// What a source's files depend on: everything before it in the recipe (its duplicates were
// removed against those), the split and the deduplication settings; not the weights, so a
// reweighted recipe reuses every finished source.
json source_key(const MixRecipe& r, std::size_t k) {
  json before = json::array();
  for (std::size_t i = 0; i < k; ++i) before.push_back(r.sources[i].name);
  return {{"name", r.sources[k].name},  {"after", before},
          {"seed", r.seed},             {"val", r.fractions.val},
          {"test", r.fractions.test},   {"shingle_words", r.dedup.shingle_words},
          {"near_threshold", r.dedup.threshold}};
}

json counts_json(const MixSourceCounts& c) {
  return {{"name", c.name},
          {"licence", c.licence},
          {"kind", c.kind},
          {"documents", c.documents},
          {"exact_removed", c.exact},
          {"near_removed", c.near},
          {"docs", {{"train", c.docs[0]}, {"val", c.docs[1]}, {"test", c.docs[2]}}},
          {"bytes", {{"train", c.bytes[0]}, {"val", c.bytes[1]}, {"test", c.bytes[2]}}},
          {"weight", c.weight},
          {"mix_train_docs", c.mix_train_docs},
          {"mix_train_bytes", c.mix_train_bytes}};  // no timings: the same inputs give the same files
}

MixSourceCounts counts_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected an object of source counts");
  MixSourceCounts c;
  read_field(j, "name", c.name, path);
  read_field(j, "licence", c.licence, path);
  read_field(j, "kind", c.kind, path);
  read_field(j, "documents", c.documents, path);
  read_field(j, "exact_removed", c.exact, path);
  read_field(j, "near_removed", c.near, path);
  for (int i = 0; i < 3; ++i) {
    if (j.contains("docs")) read_field(j["docs"], kSplitNames[i], c.docs[i], path);
    if (j.contains("bytes")) read_field(j["bytes"], kSplitNames[i], c.bytes[i], path);
  }
  read_field(j, "weight", c.weight, path);
  read_field(j, "mix_train_docs", c.mix_train_docs, path);
  read_field(j, "mix_train_bytes", c.mix_train_bytes, path);
  return c;
}

// How many times a training document goes into the mix: floor(w) copies, one more with
// probability frac(w), decided by a hash of the id (the same every run).
int copies(double weight, unsigned long long seed, const std::string& id) {
  const double whole = std::floor(weight);
  return int(whole) + (document_draw(seed ^ kWeightStream, id) < weight - whole ? 1 : 0);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

MixRecipe mix_recipe_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected a JSON object (a mix recipe)");
  check_known_keys(j, {"sources", "val", "test", "seed", "max_share", "shingle_words", "near_threshold"}, path);
  MixRecipe r;
  read_field(j, "val", r.fractions.val, path);
  read_field(j, "test", r.fractions.test, path);
  read_field(j, "seed", r.seed, path);
  read_field(j, "max_share", r.max_share, path);
  read_field(j, "shingle_words", r.dedup.shingle_words, path);
  read_field(j, "near_threshold", r.dedup.threshold, path);
  if (!(r.fractions.val > 0 && r.fractions.test > 0 && r.fractions.val + r.fractions.test < 0.5))
    fail(path, "fields 'val' and 'test' must be > 0 and sum to less than 0.5");
  if (!(r.max_share > 0 && r.max_share <= 1)) fail(path, "field 'max_share' must be in (0, 1]");
  if (r.dedup.shingle_words < 1 || r.dedup.shingle_words > 64) fail(path, "field 'shingle_words' must be in 1..64");
  if (!(r.dedup.threshold > 0 && r.dedup.threshold <= 1)) fail(path, "field 'near_threshold' must be in (0, 1]");
  auto it = j.find("sources");
  if (it == j.end() || !it->is_array() || it->empty())
    fail(path, "field 'sources' must be a non-empty array of {\"name\": corpus, \"weight\": number}");
  const auto names = packaged_corpus_names();
  std::set<std::string> seen;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    const std::string where = path + ": sources[" + std::to_string(i) + "]";
    if (!e.is_object()) fail(where, "expected {\"name\": corpus, \"weight\": number}");
    check_known_keys(e, {"name", "weight"}, where);
    MixSource s;
    read_field(e, "name", s.name, where);
    read_field(e, "weight", s.weight, where);
    if (std::find(names.begin(), names.end(), s.name) == names.end())
      fail(where, "'" + s.name + "' is not a packaged corpus (" + join(names) + ")");
    if (!seen.insert(s.name).second) fail(where, "'" + s.name + "' is listed twice");
    if (!(std::isfinite(s.weight) && s.weight >= 0 && s.weight <= 16))
      fail(where, "field 'weight' must be a number in [0, 16]");
    r.sources.push_back(s);
  }
  return r;
}

json to_json(const MixRecipe& r) {
  json sources = json::array();
  for (const auto& s : r.sources) sources.push_back({{"name", s.name}, {"weight", s.weight}});
  return {{"sources", sources},       {"val", r.fractions.val},
          {"test", r.fractions.test}, {"seed", r.seed},
          {"max_share", r.max_share}, {"shingle_words", r.dedup.shingle_words},
          {"near_threshold", r.dedup.threshold}};
}

MixRecipe load_mix_recipe(const std::string& path) { return mix_recipe_from_json(load_json(path), path); }

MixReport read_mix_report(const std::string& dir) {
  const std::string path = (fs::path(dir) / "mix.json").string();
  if (!file_exists(path)) fail(path, "not found: the mix in this directory is not finished");
  const json m = load_json(path);
  if (!m.is_object() || !m.contains("sources") || !m["sources"].is_array())
    fail(path, "missing array 'sources'");
  MixReport r;
  for (const auto& s : m["sources"]) r.sources.push_back(counts_from_json(s, path));
  read_field(m, "train_bytes", r.train_bytes, path);
  read_field(m, "unique_train_bytes", r.unique_train_bytes, path);
  return r;
}

MixReport build_mix(const MixRecipe& recipe, const CorpusPaths& paths, const std::string& dir,
                    const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  const std::string mix_json = (fs::path(dir) / "mix.json").string();
  if (file_exists(mix_json)) {
    const json m = load_json(mix_json);
    if (!m.is_object() || m.value("recipe", json()) != to_json(recipe))
      fail(mix_json, "was built from another recipe than the one asked for now; delete " + dir +
                         " (or use another --data-dir) to build this one");
    return read_mix_report(dir);
  }

  // Every package first, so a missing one is named before an hour of work, not after.
  std::map<std::string, CorpusSource> known;
  for (auto& s : corpus_sources(paths)) known[s.name] = s;
  std::vector<std::string> missing;
  for (const auto& s : recipe.sources)
    if (!known.at(s.name).installed()) missing.push_back(s.name + " (" + known.at(s.name).package + ")");
  if (!missing.empty())
    fail(dir, "the mix needs corpora that are not installed: " + join(missing) +
                  ". Install them with: scripts/setup.sh --corpus mix");

  Deduplicator dedup(recipe.dedup);
  MixReport report;
  const std::size_t n = recipe.sources.size();
  const auto start = std::chrono::steady_clock::now();
  double built_s = 0;
  std::size_t built = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const MixSource& ms = recipe.sources[k];
    const CorpusSource& src = known.at(ms.name);
    const std::string sdir = source_dir(dir, ms.name), done_path = sdir + "/source.json";
    const json key = source_key(recipe, k);
    MixSourceCounts c;
    bool resumed = false;
    if (file_exists(done_path)) {
      const json done = load_json(done_path);
      if (!done.is_object() || done.value("key", json()) != key)
        fail(done_path, "was built with another recipe or source order; delete " + dir + " to rebuild the mix");
      c = counts_from_json(done.value("counts", json()), done_path);
      // Refill the deduplicator with what this source kept: those were kept against the same
      // earlier sources, so every one of them is kept again (similarity is symmetric).
      for (const char* part : kSplitNames)
        for_each_jsonl_line(sdir + "/" + part + ".jsonl", [&](const json& j) {
          if (dedup.add(j["text"].get<std::string>()) != Deduplicator::Verdict::keep)
            fail(sdir + "/" + part + ".jsonl", "document '" + j["id"].get<std::string>() +
                                                   "' duplicates an earlier one: the files changed since they "
                                                   "were written; delete " + dir + " to rebuild the mix");
        });
      resumed = true;
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      Corpus corpus = load_corpus(ms.name, paths);
      Corpus kept{ms.name, corpus.source, {}};
      c.documents = corpus.docs.size();
      for (auto& d : corpus.docs) {
        switch (dedup.add(d.text)) {
          case Deduplicator::Verdict::keep:
            // Prefixed with the source, ids stay unique across the mix.
            kept.docs.push_back({ms.name + "/" + d.id, std::move(d.text)});
            break;
          case Deduplicator::Verdict::exact_duplicate: ++c.exact; break;
          case Deduplicator::Verdict::near_duplicate: ++c.near; break;
        }
      }
      corpus.docs.clear();
      const SplitCorpus s = split_corpus(kept, recipe.fractions, recipe.seed);
      const std::vector<Document>* parts[3] = {&s.train, &s.val, &s.test};
      for (int i = 0; i < 3; ++i) {
        c.docs[i] = parts[i]->size();
        for (const auto& d : *parts[i]) c.bytes[i] += d.text.size();
      }
      c.name = ms.name;
      c.licence = src.licence;
      c.kind = src.kind;
      write_split(sdir, s,
                  {{"spec", "mix:" + ms.name},
                   {"source", corpus.source},
                   {"seed", recipe.seed},
                   {"fractions", {{"val", recipe.fractions.val}, {"test", recipe.fractions.test}}}},
                  [&](json& j) {
                    j["source"] = ms.name;
                    j["licence"] = src.licence;
                  });
      c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      save_json(done_path, {{"key", key}, {"counts", counts_json(c)}});  // last: the source is done
      built_s += c.seconds;
      ++built;
    }
    c.weight = ms.weight;
    report.sources.push_back(c);
    const std::size_t left = n - k - 1;
    std::string eta = built ? Progress::format_duration(built_s / double(built) * double(left)) : "?";
    char line[512];
    std::snprintf(line, sizeof line,
                  "mix [%zu/%zu] %-12s %s: %zu documents, removed %zu exact + %zu near duplicates; kept %zu / %zu "
                  "/ %zu (train / val / test), %.1f MB | %s elapsed, ETA %s",
                  k + 1, n, ms.name.c_str(), resumed ? "done before" : "built", c.documents, c.exact, c.near,
                  c.docs[0], c.docs[1], c.docs[2], double(c.bytes[0] + c.bytes[1] + c.bytes[2]) / 1e6,
                  Progress::format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()).c_str(), left ? eta.c_str() : "0s");
    say(line);
  }

  // The weighted training bytes, counted before anything of the mix itself is written, so a
  // recipe that lets one source dominate fails here with the finished sources kept.
  for (auto& c : report.sources) {
    for_each_jsonl_line(source_dir(dir, c.name) + "/train.jsonl", [&](const json& j) {
      const int m = copies(c.weight, recipe.seed, j["id"].get<std::string>());
      c.mix_train_docs += std::size_t(m);
      c.mix_train_bytes += std::size_t(m) * j["text"].get_ref<const std::string&>().size();
    });
    report.train_bytes += c.mix_train_bytes;
    report.unique_train_bytes += c.bytes[0];
  }
  if (report.train_bytes == 0) fail(dir, "the mix's training split is empty (every weight 0?)");
  for (const auto& c : report.sources) {
    const double share = double(c.mix_train_bytes) / double(report.train_bytes);
    if (share > recipe.max_share + 1e-12) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%.3f", share);
      fail(dir, "source '" + c.name + "' would hold " + buf + " of the mix's training bytes, over max_share " +
                    std::to_string(recipe.max_share) + ": lower its weight in the recipe");
    }
  }

  // The mix: three JSONL files streamed from the sources' files, each line the source's own
  // (its source and licence kept), then split.json (data::SplitWriter: its ids streamed too),
  // then mix.json: the mix is done.
  const json* line = nullptr;  // the source line being copied
  SplitWriter out(dir, [&](json& j) {
    for (const auto& [key, value] : line->items())
      if (key != "id" && key != "text") j[key] = value;
  });
  for (int i = 0; i < 3; ++i)
    for (const auto& c : report.sources)
      for_each_jsonl_line(source_dir(dir, c.name) + "/" + kSplitNames[i] + ".jsonl", [&](json& j) {
        line = &j;
        const std::string& id = j["id"].get_ref<const std::string&>();
        const std::string& text = j["text"].get_ref<const std::string&>();
        const int m = i == 0 ? copies(c.weight, recipe.seed, id) : 1;  // held-out text unweighted
        for (int copy = 1; copy <= m; ++copy)
          out.add(i, {copy == 1 ? id : id + "#" + std::to_string(copy), text});
      });
  out.commit({{"spec", "mix"},
              {"source", "mix of " + std::to_string(n) + " packaged corpora (mix.json)"},
              {"seed", recipe.seed},
              {"fractions", {{"val", recipe.fractions.val}, {"test", recipe.fractions.test}}}},
             "mix");
  json sources = json::array();
  for (const auto& c : report.sources) sources.push_back(counts_json(c));
  save_json(mix_json, {{"format", "structlm-mix"},
                       {"version", 1},
                       {"recipe", to_json(recipe)},
                       {"sources", sources},
                       {"train_bytes", report.train_bytes},
                       {"unique_train_bytes", report.unique_train_bytes}});
  return report;
}

}  // namespace structlm::data
