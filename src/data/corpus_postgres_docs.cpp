// The PostgreSQL 15 documentation (Debian postgresql-doc-15; PostgreSQL licence): the HTML that
// DocBook's stylesheets make of it, one flat folder /usr/share/doc/postgresql-doc-15/html. One
// document per page (id: the file name without .html, e.g. `tutorial-select`), in name order,
// through html_text.h's reader (the pages have no main element: their body is read). Kept and
// dropped:
//   - the navigation header and footer of every page (div.navheader, div.navfooter: Prev, Up,
//     Home, Next and the neighbours' titles) go, and so do the tables of contents that chapter
//     and part pages are made of (div.toc: the titles of other pages, which those pages repeat);
//   - code blocks go, as in python-docs (<pre>: programlisting, screen, synopsis), and with them
//     a reference page's synopsis section (div.refsynopsisdiv: its heading "Synopsis" over the
//     command's grammar) and a command's synopsis (div.cmdsynopsis: `createdb [option...]`);
//     inline code (<code>: `SELECT`, `weather`) stays;
//   - footnotes go, their marks in the text (`[2]`) and their bodies (26 in the whole set);
//   - bookindex.html, the back-of-the-book index (terms and page links), is not a document.
// A page that is not text, or is cut short, is refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

Corpus load_postgres_docs(const CorpusPaths& paths) {
  const std::string& root = paths.postgres_docs_dir;
  if (!is_directory(root))
    fail(root, "missing: the PostgreSQL documentation is not installed; install the Debian package postgresql-doc-15 "
               "(scripts/setup.sh --corpus postgres-docs)");
  std::vector<std::string> pages;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".html" && entry.path().filename() != "bookindex.html")
      pages.push_back(entry.path().filename().string());
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"navheader", "navfooter", "toc", "footnote", "refsynopsisdiv", "cmdsynopsis"},
                            /*keep_code_blocks=*/false, /*main_class=*/{}};
  Corpus c{"postgres-docs", root, {}};
  add_html_pages(c, root, pages, rules);
  if (c.docs.empty()) fail(root, "holds no documentation pages");
  return c;
}

}  // namespace structlm::data::detail
