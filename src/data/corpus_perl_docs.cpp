// The Perl documentation (Debian perl-doc; Perl's licence: GPL-1+ or Artistic): the POD files
// under /usr/share/perl/5.36.0/pod (perlfaq1..9, perlre, perlretut, perlobj, perlfunc, the
// perlNNNdelta release notes, ...), one document per file (id: the file name without .pod, e.g.
// `perlretut`), in name order, through pod_text.h's reader: prose, headings and item labels kept,
// code (verbatim paragraphs) dropped. Two files are listings, not text, and are left out:
// perltoc (the headings of every other file) and perluniprops (tables of Unicode properties).
// A file that is not text, or whose POD is malformed, is refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/pod_text.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

Corpus load_perl_docs(const CorpusPaths& paths) {
  const std::string& root = paths.perl_docs_dir;
  if (!is_directory(root))
    fail(root, "missing: the Perl documentation is not installed; install the Debian package perl-doc "
               "(scripts/setup.sh --corpus perl-docs)");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string stem = entry.path().stem().string();
    if (entry.is_regular_file() && entry.path().extension() == ".pod" && stem != "perltoc" && stem != "perluniprops")
      files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  Corpus c{"perl-docs", root, {}};
  for (const auto& file : files) {
    const std::string path = root + "/" + file;
    const std::string pod = read_file(path);
    check_is_text(pod, path);
    std::string text = pod_to_text(pod, path);
    if (!text.empty()) c.docs.push_back({file.substr(0, file.size() - 4), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no POD files");
  return c;
}

}  // namespace structlm::data::detail
