// The Rust books (Debian rust-doc 1.63; MIT or Apache-2.0): the mdBook books under
// /usr/share/doc/rust-doc/html, not the API documentation (std, core, alloc, ...). Read: the Rust
// Programming Language (book), the Reference, the Rustonomicon (nomicon), Rust by Example, the
// Edition Guide, the rustc book, the rustdoc book and the Embedded Rust book; the Unstable Book
// (600 pages, most a line naming a feature's tracking issue) is not. One document per chapter
// page (id: book and page, e.g. `book/ch04-01-what-is-ownership`), in path order, through
// html_text.h's reader. Kept and dropped:
//   - only the page's <main> element: the sidebar (table of contents), menu bar, search box and
//     the previous/next links go;
//   - code blocks go (<pre>: listings, shell sessions, compiler output), inline code stays, as in
//     python-docs; so does a listing's caption, and its file name (span.filename: `Filename:
//     src/main.rs`) goes with it;
//   - a page without <main> is a redirect left where a page used to be, and is not a document;
//     nor are print.html (every chapter again, on one page) and the book's first-edition,
//     second-edition and 2018-edition folders (pages saying those editions are gone).
// A page that is not text, or is cut short, is refused by name.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

const char* const kBooks[] = {"book", "reference", "nomicon", "rust-by-example", "edition-guide", "rustc", "rustdoc",
                              "embedded-book"};

bool edition_stubs(const fs::path& dir) {
  const std::string n = dir.filename().string();
  return n == "first-edition" || n == "second-edition" || n == "2018-edition";
}

}  // namespace

Corpus load_rust_books(const CorpusPaths& paths) {
  const std::string& root = paths.rust_docs_dir;
  const char* const hint = "install the Debian package rust-doc (scripts/setup.sh --corpus rust-books)";
  if (!is_directory(root)) fail(root, std::string("missing: the Rust documentation is not installed; ") + hint);
  std::vector<std::string> pages;  // relative to root: book/ch04-01-what-is-ownership.html
  for (const char* book : kBooks) {
    const std::string dir = root + "/" + book;
    if (!is_directory(dir)) fail(dir, std::string("missing: rust-doc without this book; ") + hint);
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && edition_stubs(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && it->path().extension() == ".html" && it->path().filename() != "print.html")
        pages.push_back(fs::relative(it->path(), root).string());
    }
  }
  std::sort(pages.begin(), pages.end());
  const HtmlTextRules rules{{"filename"}, /*keep_code_blocks=*/false, /*main_class=*/{}};
  Corpus c{"rust-books", root, {}};
  add_html_pages(c, root, pages, rules, [](const std::string& html) {  // a redirect page has no <main>
    return html.find("<main>") == std::string::npos && html.find("<main ") == std::string::npos;
  });
  if (c.docs.empty()) fail(root, "holds no book pages");
  return c;
}

}  // namespace structlm::data::detail
