// nlp-corpus (npm): builds/doc-N.json, each a JSON array of ~1000 unrelated sentences from varied
// sources. A whole file would be one huge document, and 100 documents split badly (5% val is
// 5 files), so each file is cut into documents of 50 sentences, ids `doc-N#k`.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "data/corpus_internal.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

static constexpr std::size_t kSentencesPerDoc = 50;

Corpus load_nlp_corpus(const CorpusPaths& paths) {
  fs::path dir = fs::path(paths.npm_root) / "nlp-corpus" / "builds";
  if (!is_directory(dir.string()))
    fail(dir.string(), "not found: nlp-corpus comes from npm (run scripts/setup.sh, or "
                       "`npm install nlp-corpus` in deps/)");
  // Numeric order (doc-2 before doc-10), so ids and document order do not depend on the listing.
  std::vector<std::pair<long, std::string>> files;
  for (const auto& path : list_files(dir.string())) {
    std::string name = fs::path(path).filename().string();
    if (name.rfind("doc-", 0) != 0 || fs::path(name).extension() != ".json") continue;
    std::string num = fs::path(name).stem().string().substr(4);
    if (num.empty() || !std::all_of(num.begin(), num.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    files.emplace_back(std::stol(num), path);
  }
  if (files.empty()) fail(dir.string(), "holds no doc-N.json files");
  std::sort(files.begin(), files.end());

  Corpus c{"nlp-corpus", dir.string(), {}};
  for (const auto& [n, path] : files) {
    json arr = load_json(path);
    if (!arr.is_array()) fail(path, std::string("expected a JSON array of sentences, got ") + arr.type_name());
    std::vector<std::string> sentences;
    sentences.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_string()) fail(path, "element " + std::to_string(i) + " is not a string");
      std::string s = trim(arr[i].get<std::string>());
      if (!s.empty()) sentences.push_back(std::move(s));
    }
    pack_pieces(sentences, "doc-" + std::to_string(n), "\n", kSentencesPerDoc, 0, c.docs);
  }
  return c;
}

}  // namespace structlm::data::detail
