// The Erlang/OTP 25 documentation (Debian erlang-doc; Apache-2.0), under /usr/share/doc/erlang-doc:
// the system guides of doc/ (getting started, the reference manual, the efficiency guide, the
// design principles, the installation guide, ...), the runtime system's (erts-*/doc/html) and
// every application's user's guide, reference manual and release notes (lib/*/doc/html). One
// document per page (id: the path under the root without .html, e.g.
// `lib/stdlib-4.2/doc/html/lists`), in path order, through html_text.h's reader. Kept and
// dropped:
//   - only the page's content (div#content): the left column (the whole tree of guides and
//     modules, repeated on every page: 170 MB of the package's 180 MB of HTML), the top bar and
//     the search box go; so does the content's footer (div.footer: the copyright line) and each
//     heading's link and edit marks (div.title-anchors);
//   - code blocks go, the rule of every documentation corpus (<pre>: examples, shell sessions),
//     and with them a function's "Types" block (div.fun-types: its type specification, Erlang
//     code: `Pred = fun((Elem :: T) -> boolean())`); the function head stays (`all(Pred, List) ->
//     boolean()`), as API signatures do in python-docs, and so does inline code (`T1 == T2`);
//   - the release notes stay: an entry is a sentence or two ("Fixed a bug where ...");
//   - the front page of each guide, reference manual and release notes (index, users_guide and
//     release_notes: a title, a version and a date) is not a document, nor is a page not made
//     from the manuals' template (div#container): the Java API of jinterface (javadoc), the
//     generated lists of applications and manual pages (doc/applications, doc/man_index), the
//     output of xmerl's examples, and the redirects left where the installation guide's pages
//     used to be.
// A page that is not text, is cut short, or is made from the template without div#content is
// refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

Corpus load_erlang_docs(const CorpusPaths& paths) {
  const std::string& root = paths.erlang_docs_dir;
  if (!is_directory(root))
    fail(root, "missing: the Erlang/OTP documentation is not installed; install the Debian package erlang-doc "
               "(scripts/setup.sh --corpus erlang-docs)");
  std::vector<std::string> pages;  // relative to root: lib/stdlib-4.2/doc/html/lists.html
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file() || it->path().extension() != ".html") continue;
    const std::string file = it->path().filename().string();
    if (file == "index.html" || file == "users_guide.html" || file == "release_notes.html") continue;  // front pages
    pages.push_back(fs::relative(it->path(), root).string());
  }
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"footer", "title-anchors", "fun-types"}, /*keep_code_blocks=*/false,
                            /*main_class=*/"#content"};
  Corpus c{"erlang-docs", root, {}};
  for (const auto& page : pages) {
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    // Every page of the manuals is made from one template (div#container: the top bar, the left
    // column, div#content); a page of it without div#content is refused by html_to_text.
    if (html.find("<div id=\"container\"") == std::string::npos) continue;
    std::string text = html_to_text(html, path, rules);
    if (!text.empty()) c.docs.push_back({page.substr(0, page.size() - 5), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no documentation pages");
  return c;
}

}  // namespace structlm::data::detail
