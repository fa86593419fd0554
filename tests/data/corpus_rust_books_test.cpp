// The Rust books (rust-books): mdBook pages as rust-doc ships them (a page cut from
// book/ch04-01-what-is-ownership.html; MIT or Apache-2.0): <main> only, code and file names
// dropped, redirects, print.html and the old editions' stubs left out.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

std::string mdbook_page(const std::string& main) {
  return R"(<!DOCTYPE HTML>
<html lang="en" class="sidebar-visible no-js light">
    <head><meta charset="UTF-8"><title>What Is Ownership? - The Rust Programming Language</title></head>
    <body>
        <nav id="sidebar" class="sidebar" aria-label="Table of contents">
            <div class="sidebar-scrollbox"><ol class="chapter"><li class="chapter-item expanded "><a href="title-page.html">The Rust Programming Language</a></li></ol></div>
        </nav>
        <div id="page-wrapper" class="page-wrapper">
            <div class="page">
                <div id="menu-bar" class="menu-bar sticky bordered"><h1 class="menu-title">The Rust Programming Language</h1></div>
                <div id="content" class="content">
                    <main>
)" + main + R"(
                    </main>
                    <nav class="nav-wrapper" aria-label="Page navigation">
                        <a rel="prev" href="ch04-00-understanding-ownership.html" class="mobile-nav-chapters previous" title="Previous chapter">Previous</a>
                    </nav>
                </div>
            </div>
        </div>
    </body>
</html>
)";
}

const char* const kOwnership =
    R"(<h2 id="what-is-ownership"><a class="header" href="#what-is-ownership">What Is Ownership?</a></h2>
<p><em>Ownership</em> is a set of rules that governs how a Rust program manages memory.</p>
<p><span class="filename">Filename: src/main.rs</span></p>
<pre class="playground"><code class="language-rust">fn main() {
    let s = String::from("hello");
}</code></pre>
<p><span class="caption">Listing 4-1: A variable and the scope in which it is valid</span></p>
<p>The <code>String</code> type manages data allocated on the heap.</p>)";

// What rust-doc leaves where a first-edition page used to be: no <main>.
const char* const kRedirect = R"(<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Rust Programming Language</title></head>
<body class="rustdoc"><h1>The Rust Programming Language</h1><p>This page has moved.</p></body></html>
)";

void make_books(const TempDir& t) {
  for (const char* b : {"book/second-edition", "reference", "nomicon", "rust-by-example", "edition-guide", "rustc",
                        "rustdoc", "embedded-book", "std"})
    std::filesystem::create_directories(t / b);
}

}  // namespace

TEST(RustBooksCorpus, MainOfEachChapterWithoutCodeRedirectsOrStubs) {
  TempDir t;
  make_books(t);
  write_file_atomic(t / "book/ch04-01-what-is-ownership.html", mdbook_page(kOwnership));
  write_file_atomic(t / "book/print.html", mdbook_page(kOwnership));
  write_file_atomic(t / "book/associated-types.html", kRedirect);
  write_file_atomic(t / "book/second-edition/ch04-01-what-is-ownership.html",
                    mdbook_page("<p>The second edition of the book is no longer distributed.</p>"));
  write_file_atomic(t / "reference/types.html", mdbook_page("<h1><a class=\"header\" href=\"#types\">Types</a></h1>"));
  write_file_atomic(t / "std/index.html", mdbook_page("<p>API documentation</p>"));
  CorpusPaths p;
  p.rust_docs_dir = t.path();
  const Corpus c = load_corpus("rust-books", p);
  EXPECT_EQ(c.name, "rust-books");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "book/ch04-01-what-is-ownership");
  EXPECT_EQ(c.docs[0].text,
            "What Is Ownership?\n\n"
            "Ownership is a set of rules that governs how a Rust program manages memory.\n\n"
            "Listing 4-1: A variable and the scope in which it is valid\n\n"
            "The String type manages data allocated on the heap.");
  EXPECT_EQ(c.docs[1].id, "reference/types");
  EXPECT_EQ(c.docs[1].text, "Types");
  // A redirect has text of its own: it is the rule on <main> that leaves it out.
  EXPECT_NE(detail::html_to_text(kRedirect, "x.html").find("This page has moved."), std::string::npos);
}

TEST(RustBooksCorpus, DamagedPagesAndMissingBooksAreNamed) {
  TempDir t;
  make_books(t);
  write_file_atomic(t / "rustc/what-is-rustc.html", mdbook_page(kOwnership).substr(0, 600) + "<main>");
  CorpusPaths p;
  p.rust_docs_dir = t.path();
  std::string e = error_of([&] { load_corpus("rust-books", p); });
  EXPECT_NE(e.find(t / "rustc/what-is-rustc.html"), std::string::npos) << e;
  std::filesystem::remove_all(t / "nomicon");
  e = error_of([&] { load_corpus("rust-books", p); });
  EXPECT_NE(e.find(t / "nomicon"), std::string::npos) << e;
  EXPECT_NE(e.find("rust-doc"), std::string::npos) << e;
  p.rust_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("rust-books", p); }).find("rust-doc"), std::string::npos);
}

// The package itself, where scripts/setup.sh --corpus rust-books installed it.
TEST(RustBooksCorpus, RealBooksWhereInstalled) {
  const CorpusPaths p;
  if (!file_exists(p.rust_docs_dir + "/book/ch04-01-what-is-ownership.html"))
    GTEST_SKIP() << "rust-doc not installed; scripts/setup.sh --corpus rust-books installs it";
  const Corpus c = load_corpus("rust-books", p);
  EXPECT_GT(c.docs.size(), 500u);
  bool seen = false;
  for (const auto& d : c.docs) {
    EXPECT_EQ(d.id.find("second-edition"), std::string::npos);
    if (d.id != "book/ch04-01-what-is-ownership") continue;
    seen = true;
    EXPECT_EQ(d.text.rfind("What Is Ownership?\n\nOwnership is a set of rules that governs how a Rust program", 0), 0u);
    EXPECT_EQ(d.text.find("s is valid from this point forward"), std::string::npos);  // a code block
  }
  EXPECT_TRUE(seen);
}
