// Git's documentation (Debian git-doc 2.39; GPL-2): the HTML that asciidoc makes of the manual
// pages (git-rebase, gitglossary, gittutorial, ...), the how-tos (howto/) and the technical notes
// (technical/), and the DocBook-built Git User Manual, under /usr/share/doc/git-doc. One document
// per page (id: the path without .html, e.g. `git-rebase`, `howto/revert-branch-rebase`), in path
// order, through html_text.h's reader (the pages have no main element: their body is read).
// Kept and dropped:
//   - the title and the NAME line (`git-rebase - Reapply commits on top of another base tip`)
//     stay; the footer (div#footer: "Last updated 2024-05-31 ...") goes, and so do the tables of
//     contents (div.toc, div#toc: the User Manual's chapter lists);
//   - code blocks go, the rule of every documentation corpus (<pre>: listing and literal blocks,
//     shell sessions, and the SYNOPSIS of a command, which asciidoc writes as a <pre>); inline
//     code stays (`git log <upstream>..HEAD`);
//   - the closing section of every manual page, "GIT / Part of the git(1) suite", goes;
//   - index.html is a link to git.html, and links are not read; the .txt files beside the pages
//     are their asciidoc sources, the same text again, and are not read either.
// A page that is not text, or is cut short, is refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

Corpus load_git_docs(const CorpusPaths& paths) {
  const std::string& root = paths.git_docs_dir;
  if (!is_directory(root))
    fail(root, "missing: Git's documentation is not installed; install the Debian package git-doc "
               "(scripts/setup.sh --corpus git-docs)");
  std::vector<std::string> pages;  // relative to root: git-rebase.html, howto/use-git-daemon.html
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (!it->is_symlink() && it->is_regular_file() && it->path().extension() == ".html")
      pages.push_back(fs::relative(it->path(), root).string());
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"#footer", "#toc", "toc"}, /*keep_code_blocks=*/false, /*main_class=*/{}};
  const std::string suite_line = "\n\nGIT\n\nPart of the git(1) suite";
  Corpus c{"git-docs", root, {}};
  for (const auto& page : pages) {
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    std::string text = html_to_text(html, path, rules);
    if (text.size() >= suite_line.size() && text.compare(text.size() - suite_line.size(), suite_line.size(), suite_line) == 0)
      text.resize(text.size() - suite_line.size());
    if (!text.empty()) c.docs.push_back({page.substr(0, page.size() - 5), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no documentation pages");
  return c;
}

}  // namespace structlm::data::detail
