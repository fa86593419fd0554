// Manuals written in Texinfo, as makeinfo splits them into HTML pages, one per node: one folder
// of pages, one document per page (id: the file name without .html, e.g. `Basic-Vectorization`),
// in name order, through one page walk and html_text.h's reader.
//
// octave-docs: the GNU Octave 7.3 manual (octave-doc, GPL-3+), under
// /usr/share/doc/octave/octave.html. maxima-docs: the Maxima 5.46 manual (maxima-doc, GPL-2),
// under /usr/share/doc/maxima-doc/html. Kept and dropped, in both:
//   - the navigation line of every page (div.header: Next, Previous, Up, Contents, Index) goes,
//     and so do the tables of contents (ul.section-toc, the menu of a node's subnodes;
//     div.contents and div.shortcontents, the whole manual's), the permalink marks
//     (a.copiable-anchor, the pilcrows) and the footnotes (div.footnote, a few per manual);
//   - code blocks go (<pre>: examples, Octave and Maxima sessions, the rule of every documentation
//     corpus); inline code (<code>: `binomial (11, 7)`) stays, and so do the definition lines of
//     functions and variables (dl.def's dt: `Function: binomial (x, y)`), as API signatures do in
//     python-docs: they name what the paragraph below describes;
//   - the redirect pages, one for each anchor (XREFsum.html, 2,324 in Octave's manual: a line
//     "The node you are looking for is at sum", marked by makeinfo's comment), are not documents;
//   - the index pages (those holding an index table, table.index-cp, index-fn, ...: terms and
//     page links) are not documents, nor is a page left with nothing but its heading (a chapter
//     page that was only a menu of its sections).
// octave-docs only: a definition line's category, which Octave leaves empty (`: sum (x)`), goes.
// maxima-docs only: a definition's "Categories:" line (div.categorybox: links to the category
// lists) goes (its category, `Function: binomial (x, y)`, stays), and three pages are the manual
// again or its contents, not documents: maxima_singlepage (the whole manual on one page),
// maxima_toc and maxima_ovr (the table of contents, long and short). The Documentation
// Categories page (every function's name under its category, all in categoryboxes) is left with
// its heading only, and so is not a document. intromax.html, Rand's "Introduction to Maxima", is
// not part of the manual (another converter's page, in Latin-1) and is not read.
// A page that is not text, or is cut short, is refused by name.
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

struct TexinfoSource {
  const char* name;
  const char* install_hint;
  std::vector<std::string> drop_classes;  // beyond the ones every makeinfo manual drops
  std::set<std::string> skipped_pages;    // page ids that repeat the manual or its contents
};

// makeinfo writes a page for each anchor (XREFsum.html: "The node you are looking for is at ..."),
// which sends the browser to the node that holds it; it marks them so (and leaves off </html>).
const char* const kRedirect = "<!-- This file redirects to the location of a node or anchor -->";

Corpus load_texinfo_tree(const std::string& root, const TexinfoSource& src) {
  if (!is_directory(root))
    fail(root, std::string("missing: the ") + src.name + " manual is not installed; " + src.install_hint);
  std::vector<std::string> pages;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".html") pages.push_back(entry.path().filename().string());
  std::sort(pages.begin(), pages.end());
  HtmlTextRules rules{{"header", "section-toc", "contents", "shortcontents", "copiable-anchor", "footnote"},
                      /*keep_code_blocks=*/false,
                      /*main_class=*/{}};
  rules.drop_classes.insert(rules.drop_classes.end(), src.drop_classes.begin(), src.drop_classes.end());
  Corpus c{src.name, root, {}};
  for (const auto& page : pages) {
    std::string id = page.substr(0, page.size() - 5);
    if (src.skipped_pages.count(id)) continue;
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    if (html.find(kRedirect) != std::string::npos) continue;  // an anchor's redirect, not a node
    std::string text = html_to_text(html, path, rules);  // checks the page is whole before the index test
    if (html.find("<table class=\"index-") != std::string::npos) continue;  // an index: terms and links
    if (text.find("\n\n") == std::string::npos) continue;  // a heading alone
    c.docs.push_back({std::move(id), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no manual pages");
  return c;
}

}  // namespace

Corpus load_octave_docs(const CorpusPaths& paths) {
  return load_texinfo_tree(paths.octave_docs_dir,
                           {"octave-docs", "install the Debian package octave-doc (scripts/setup.sh --corpus octave-docs)",
                            {"category"},
                            {}});
}

Corpus load_maxima_docs(const CorpusPaths& paths) {
  return load_texinfo_tree(paths.maxima_docs_dir,
                           {"maxima-docs", "install the Debian package maxima-doc (scripts/setup.sh --corpus maxima-docs)",
                            {"categorybox"},
                            {"maxima_singlepage", "maxima_toc", "maxima_ovr", "intromax"}});
}

}  // namespace structlm::data::detail
