// load_corpus: packaged names first, then paths by kind. Also where the packaged corpora live.
#include "data/corpus.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <unordered_set>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"

namespace fs = std::filesystem;

namespace structlm::data {

// The repository root: STRUCTLM_SOURCE_DIR if set (tests and installed tools), else the nearest
// directory at or above the current one holding deps/package.json (running from a checkout).
static std::string find_repo_root() {
  if (const char* env = std::getenv("STRUCTLM_SOURCE_DIR"); env && *env) return env;
  std::error_code ec;
  fs::path dir = fs::current_path(ec);
  if (ec) return "";
  for (;;) {
    if (fs::exists(dir / "deps" / "package.json", ec)) return dir.string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) return "";
    dir = dir.parent_path();
  }
}

CorpusPaths CorpusPaths::defaults() {
  CorpusPaths p;
  std::string root = find_repo_root();
  // Relative fallback, so the "not found" error still names a sensible place.
  p.npm_root = root.empty() ? "deps/node_modules" : (fs::path(root) / "deps" / "node_modules").string();
  return p;
}

std::vector<std::string> packaged_corpus_names() { return {"brown", "nlp-corpus", "kjv", "wordnet"}; }

static std::string lower_ext(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

static Corpus load_any(const std::string& spec, const CorpusPaths& paths) {
  using namespace detail;
  if (spec == "brown") return load_brown(paths);
  if (spec == "nlp-corpus") return load_nlp_corpus(paths);
  if (spec == "kjv") return load_kjv(paths);
  if (spec == "wordnet") return load_wordnet(paths);
  if (is_directory(spec)) return load_directory(spec);
  if (!file_exists(spec))
    fail(spec, "no such file or directory, and not a packaged corpus (brown, nlp-corpus, kjv, wordnet)");
  std::string ext = lower_ext(spec);
  if (ext == ".jsonl") return load_jsonl_file(spec);
  if (ext == ".txt" || ext == ".md" || ext == ".text") return load_text_file(spec, paths.doc_chars);
  fail(spec, "unsupported file type '" + ext + "' (expected .txt, .md, .jsonl or a directory)");
}

Corpus load_corpus(const std::string& spec, const CorpusPaths& paths) {
  Corpus c = load_any(spec, paths);
  // Splits are keyed by id, so two documents with one id would be silently merged or dropped.
  std::unordered_set<std::string> seen;
  for (const auto& d : c.docs)
    if (!seen.insert(d.id).second) fail(c.source, "duplicate document id '" + d.id + "'");
  return c;
}

}  // namespace structlm::data
