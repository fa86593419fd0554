// The LibreOffice 7.4 help in English (Debian libreoffice-help-en-us; MPL-2.0, parts Apache-2.0):
// the HTML pages under /usr/share/libreoffice/help/en-US/text (Writer, Calc, Impress, Draw, Base,
// Math, Chart, Basic and the shared pages). One document per page (id: the path under text/
// without .html, e.g. `shared/guide/autocorr_url`), in path order, through html_text.h's reader.
// Kept and dropped:
//   - only the page's content area (div#DisplayArea): the header (module menu), the side panels
//     (the contents tree, the index and the search box) and the footer (debug information) go;
//     a page without that element is refused, so a theme change cannot let them through;
//   - a page holds variants for each system and application, all hidden, and the help viewer
//     shows the one that fits: `Command` on a Mac, `Ctrl` elsewhere, a link to the Writer page in
//     Writer, "in the LibreOffice Writer Help" elsewhere. The default is kept (the variant
//     without a class) and the others go (span.MAC, WIN, UNIX, WRITER, CALC, IMPRESS, DRAW, CHART,
//     MATH, BASE, BASIC), so a sentence reads once;
//   - code goes, the rule of every documentation corpus: code blocks (<pre>: Basic and Python
//     examples) and the lines of code written as paragraphs (p.code, p.codeintable: `SELECT
//     field1, field2 FROM table,`; p.smathcode: Math formulas); inline literals (span.literal)
//     stay;
//   - "Related Topics" (div.relatedtopics: titles of other pages, which those pages repeat) goes;
//     where a page writes the list without that div, its heading (p.related) goes and the
//     titles stay, one paragraph each;
//     "To access this command..." (the menu path: "Choose Tools - AutoCorrect Options") stays;
//   - a page left with no text (an empty placeholder) is not a document.
// A page that is not text, is cut short or has no content area is refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

Corpus load_libreoffice_help(const CorpusPaths& paths) {
  const std::string root = paths.libreoffice_help_dir + "/text";
  if (!is_directory(root))
    fail(root, "missing: the LibreOffice help is not installed; install the Debian package libreoffice-help-en-us "
               "(scripts/setup.sh --corpus libreoffice-help)");
  std::vector<std::string> pages;  // relative to root: shared/guide/autocorr_url.html
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().extension() == ".html") pages.push_back(fs::relative(it->path(), root).string());
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"relatedtopics", "related", "code", "codeintable", "smathcode", "MAC", "WIN", "UNIX", "WRITER", "CALC",
                             "IMPRESS", "DRAW", "CHART", "MATH", "BASE", "BASIC"},
                            /*keep_code_blocks=*/false,
                            /*main_class=*/"#DisplayArea"};
  Corpus c{"libreoffice-help", root, {}};
  add_html_pages(c, root, pages, rules);
  if (c.docs.empty()) fail(root, "holds no help pages");
  return c;
}

}  // namespace structlm::data::detail
