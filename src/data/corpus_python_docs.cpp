// The Python 3.11 documentation (Debian python3.11-doc, PSF licence): the Sphinx HTML pages under
// /usr/share/doc/python3.11/html, one document per page (id: the page's path without .html, e.g.
// `library/functools`), in path order. Kept and dropped (html_text.h):
//   - only the page's main content (role="main"): navigation, sidebars, search boxes, headers and
//     footers go; so do the permalink marks (a.headerlink, the pilcrows);
//   - code blocks (<pre>: examples, doctests, shell sessions) go, as the rule for
//     technical text; inline code inside a sentence (`lru_cache()`) stays, as do API signatures
//     (dt: `functools.cache(user_function)`), which name what the paragraph below describes;
//   - the index pages (genindex*, py-modindex, search, contents) and the Sphinx folders (_static,
//     _sources, _images, _downloads) are not documents.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

const char* const kInstallHint = "install the Debian package python3.11-doc (scripts/setup.sh --corpus python-docs)";

bool index_page(const std::string& file) {
  return file.rfind("genindex", 0) == 0 || file == "py-modindex.html" || file == "search.html" || file == "contents.html";
}

}  // namespace

Corpus load_python_docs(const CorpusPaths& paths) {
  const std::string& root = paths.python_docs_dir;
  if (!is_directory(root)) fail(root, std::string("missing: the Python documentation is not installed; ") + kInstallHint);
  std::vector<std::string> pages;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const auto& p = it->path();
    if (it->is_directory() && p.filename().string().rfind('_', 0) == 0) {
      it.disable_recursion_pending();  // _static, _sources, _images, _downloads
      continue;
    }
    if (!it->is_regular_file() || p.extension() != ".html" || index_page(p.filename().string())) continue;
    pages.push_back(fs::relative(p, root).string());
  }
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"headerlink"}, /*keep_code_blocks=*/false};
  Corpus c{"python-docs", root, {}};
  for (const auto& page : pages) {
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    std::string text = html_to_text(html, path, rules);
    if (!text.empty()) c.docs.push_back({page.substr(0, page.size() - 5), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no documentation pages");
  return c;
}

}  // namespace structlm::data::detail
