// WordNet 3.0 glosses (Debian wordnet-base): in data.{noun,verb,adj,adv} each synset is one line
// whose gloss (definition and examples) follows " | ". The license header lines start with two
// spaces. Glosses are grouped 100 to a document in file (offset) order, ids `noun#12`.
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

static constexpr std::size_t kGlossesPerDoc = 100;

Corpus load_wordnet(const CorpusPaths& paths) {
  Corpus c{"wordnet", paths.wordnet_dir, {}};
  for (const char* pos : {"noun", "verb", "adj", "adv"}) {
    std::string path = (fs::path(paths.wordnet_dir) / (std::string("data.") + pos)).string();
    if (!file_exists(path))
      fail(path, "not found: WordNet comes from Debian (apt-get install wordnet-base, or scripts/setup.sh)");
    std::vector<std::string> glosses;
    std::size_t lineno = 0;
    for (const auto& line : read_lines(path)) {
      ++lineno;
      if (line.empty() || line.rfind("  ", 0) == 0) continue;
      auto bar = line.find(" | ");
      if (bar == std::string::npos) continue;  // a synset without a gloss
      std::string g = trim(line.substr(bar + 3));
      if (!g.empty()) glosses.push_back(std::move(g));
    }
    if (glosses.empty()) fail(path, "holds no glosses");
    pack_pieces(glosses, pos, "\n", kGlossesPerDoc, 0, c.docs);
  }
  return c;
}

}  // namespace structlm::data::detail
