// Documentation built by Sphinx, as Debian ships it: one document per HTML page (id: the page's
// path without .html, e.g. `library/functools`), in path order, through one page walk and
// html_text.h's reader with a rule set per source (its main element, classes dropped, pages and
// folders left out).
//
// python-docs: the Python 3.11 documentation (python3.11-doc, PSF licence), under
// /usr/share/doc/python3.11/html. linux-docs: the Linux 6.1 kernel documentation (linux-doc-6.1,
// GPL-2.0), under /usr/share/doc/linux-doc-6.1/html; the others below. Kept and dropped, in all:
//   - only the page's main content (role="main"): navigation, sidebars, search boxes, headers and
//     footers go; so do the permalink marks (a.headerlink, the pilcrows);
//   - code blocks (<pre>: examples, doctests, shell sessions, register dumps) go, as the issue's
//     rule for technical text; inline code inside a sentence (`lru_cache()`, `CONFIG_SMP`) stays,
//     as do API signatures (dt: `functools.cache(user_function)`, `int kthread_stop(...)`), which
//     name what the paragraph below describes;
//   - the index pages (genindex*, py-modindex, search, contents), the Sphinx folders (_static,
//     _sources, _images, _downloads, _modules: highlighted source code) and redirects (a page
//     whose head holds <meta http-equiv="refresh">) are not documents.
// linux-docs (and the newer sources, each with rules of its own): the tables of contents that
// index pages are made of (div.toctree-wrapper: a list of page titles, repeated from the pages
// themselves) go. linux-docs only: five generated pages are listings rather than prose,
// process/maintainers (names and e-mail addresses of the MAINTAINERS file) and
// admin-guide/abi-{testing,stable,obsolete,removed} (sysfs attribute tables).
// django-docs (python-django-doc, BSD-3-Clause, Django 3.2), under
// /usr/share/doc/python-django-doc/html: its own theme's content element, above its loader.
// cmake-docs (cmake-doc, BSD-3-Clause, CMake 3.25), sqlalchemy-docs (python-sqlalchemy-doc, MIT,
// SQLAlchemy 1.4), llvm-docs (llvm-15-doc) and clang-docs (clang-15-doc; both Apache-2.0 with LLVM
// exceptions): role="main" pages; their rules, above their loaders.
#include <algorithm>
#include <cctype>
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

struct SphinxSource {
  const char* name;
  const char* install_hint;
  HtmlTextRules rules;
  std::set<std::string> skipped_pages;  // page ids that are listings, not text
  std::vector<std::string> skipped_folders;  // folders (id prefixes, "releases/") left out whole
};

// A page that only sends the browser elsewhere (<meta http-equiv="refresh">: pandas leaves one where
// each page used to be, "The page has been moved to this page", some without their </html>).
bool redirect_page(const std::string& html) {
  const auto head_end = html.find("<body");
  std::string head = html.substr(0, head_end == std::string::npos ? html.size() : head_end);
  for (auto& ch : head) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return head.find("http-equiv=\"refresh\"") != std::string::npos;
}

bool index_page(const std::string& file) {
  return file.rfind("genindex", 0) == 0 || file == "py-modindex.html" || file == "search.html" || file == "contents.html";
}

Corpus load_sphinx_tree(const std::string& root, const SphinxSource& src) {
  if (!is_directory(root))
    fail(root, std::string("missing: the ") + src.name + " documentation is not installed; " + src.install_hint);
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
  Corpus c{src.name, root, {}};
  for (const auto& page : pages) {
    std::string id = page.substr(0, page.size() - 5);
    if (src.skipped_pages.count(id) ||
        std::any_of(src.skipped_folders.begin(), src.skipped_folders.end(),
                    [&](const std::string& f) { return id.rfind(f, 0) == 0; }))
      continue;
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    if (redirect_page(html)) continue;
    std::string text = html_to_text(html, path, src.rules);
    if (!text.empty()) c.docs.push_back({std::move(id), std::move(text)});
  }
  if (c.docs.empty()) fail(root, "holds no documentation pages");
  return c;
}

}  // namespace

Corpus load_python_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.python_docs_dir,
                          {"python-docs", "install the Debian package python3.11-doc (scripts/setup.sh --corpus python-docs)",
                           HtmlTextRules{{"headerlink"}, /*keep_code_blocks=*/false, /*main_class=*/{}},
                           {},
                           {}});
}

Corpus load_linux_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.linux_docs_dir,
                          {"linux-docs", "install the Debian package linux-doc-6.1 (scripts/setup.sh --corpus linux-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper"}, /*keep_code_blocks=*/false, /*main_class=*/{}},
                           {"process/maintainers", "admin-guide/abi-testing", "admin-guide/abi-stable",
                            "admin-guide/abi-obsolete", "admin-guide/abi-removed"},
                           {}});
}

// Django's theme (djangodocs) marks no element role="main": the content is div.yui-g, between the
// header's global navigation and the sidebar. The local tables of contents (div.contents, the
// `.. contents::` directive) and the toctrees of index pages go, as titles repeated from the
// pages. Release notes stay: they are sentences ("Fixed a regression in Django 3.2 that ..."), and
// the near-identical point releases are the mix's deduplication's to remove. Two pages are
// listings: releases/security (every CVE with its affected versions and commits) and
// ref/class-based-views/flattened-index (every generic view's attributes and methods, names only).
Corpus load_django_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.django_docs_dir,
                          {"django-docs", "install the Debian package python-django-doc (scripts/setup.sh --corpus django-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents"}, /*keep_code_blocks=*/false,
                                         /*main_class=*/"yui-g"},
                           {"releases/security", "ref/class-based-views/flattened-index"},
                           {}});
}

// CMake's documentation, under /usr/share/doc/cmake-data/html (where cmake-doc puts it): a page per
// command, module, variable, property, policy, generator and manual, the tutorial, the guides and
// the release notes (sentences: "The add_library() command gained ..."). Local tables of
// contents and toctrees go. Some pages' names hold spaces (`generator/Visual Studio 17 2022`):
// the ids keep them.
Corpus load_cmake_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.cmake_docs_dir,
                          {"cmake-docs", "install the Debian package cmake-doc (scripts/setup.sh --corpus cmake-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents"}, /*keep_code_blocks=*/false,
                                         /*main_class=*/{}},
                           {},
                           {}});
}

// SQLAlchemy's documentation, under /usr/share/doc/python-sqlalchemy-doc/html: the tutorial, the ORM
// and Core guides and API reference (signatures kept, as in python-docs), the dialects, the FAQ,
// the migration notes and the changelogs. A changelog entry is a sentence or two ("Fixed issue
// where ..."); its tag line ("[orm] [bug]", p.caption, the class the toctrees' captions share)
// goes. `copyright` (the licence text) is not documentation.
Corpus load_sqlalchemy_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.sqlalchemy_docs_dir,
                          {"sqlalchemy-docs",
                           "install the Debian package python-sqlalchemy-doc (scripts/setup.sh --corpus sqlalchemy-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents", "caption"},
                                         /*keep_code_blocks=*/false, /*main_class=*/{}},
                           {"copyright"},
                           {}});
}

// LLVM's documentation, under /usr/share/doc/llvm-15-doc/html: the language reference, the
// programmer's manual, the code generator, the tutorials, the command guide, the proposals. The
// AMDGPU folder is left out: 796 generated pages of assembler syntax (an operand or an
// instruction list each, 150 KB in all), listings rather than text. The AMDGPU guides in the
// top folder (AMDGPUUsage: prose with large tables) stay.
Corpus load_llvm_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.llvm_docs_dir,
                          {"llvm-docs", "install the Debian package llvm-15-doc (scripts/setup.sh --corpus llvm-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents"}, /*keep_code_blocks=*/false,
                                         /*main_class=*/{}},
                           {},
                           {"AMDGPU/"}});
}

// Clang's documentation, under /usr/share/doc/clang-15/html (where clang-15-doc puts it): the
// user's manual, the language extensions, the sanitizers, the static analyzer, the internals. Two
// generated pages are listings: ClangCommandLineReference (every driver option, most with no
// description) and ClangFormattedStatus (a table of source folders and their clang-format
// percentages).
Corpus load_clang_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.clang_docs_dir,
                          {"clang-docs", "install the Debian package clang-15-doc (scripts/setup.sh --corpus clang-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents"}, /*keep_code_blocks=*/false,
                                         /*main_class=*/{}},
                           {"ClangCommandLineReference", "ClangFormattedStatus"},
                           {}});
}

// pandas' documentation (python-pandas-doc, BSD-3-Clause, pandas 1.5), under
// /usr/share/doc/python-pandas-doc/html: the user guide, the getting-started tutorials, the API
// reference (a page per function, method and attribute: its signature, its description, its
// parameters and what it returns, its examples), the development guide and the release notes.
// The PyData theme marks its <main> role="main"; the previous/next links at its foot
// (div.prev-next-area) go, as do the "[source]" links (span.viewcode-link), the local tables of
// contents and the toctrees. The API reference's summary tables (table.autosummary: every
// function's name and first line, each repeated on the function's own page) go. Redirects
// (<meta http-equiv="refresh">: "The page has been moved to this page", 1,455 in `generated/`
// and one where each user guide page used to be) are not documents, in this walk as a whole;
// nor is user_guide/style (the Styler's rendered example tables: numbers, not text).
Corpus load_pandas_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.pandas_docs_dir,
                          {"pandas-docs", "install the Debian package python-pandas-doc (scripts/setup.sh --corpus pandas-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents", "prev-next-area", "viewcode-link",
                                          "autosummary"},
                                         /*keep_code_blocks=*/false, /*main_class=*/{}},
                           {"user_guide/style"},
                           {}});
}

// Sphinx's own documentation (sphinx-doc, BSD-2-Clause, Sphinx 5.3), under
// /usr/share/doc/sphinx-doc/html: the tutorial, the usage guides (reStructuredText, the
// configuration values, the builders, the extensions), the extension API, the FAQ and the
// changelog (`changes`: an entry is a sentence, "#10759: LaTeX: fix ..."). Local tables of
// contents and toctrees go. `examples` (the names and links of projects that use Sphinx) is a
// listing and left out.
Corpus load_sphinx_docs(const CorpusPaths& paths) {
  return load_sphinx_tree(paths.sphinx_docs_dir,
                          {"sphinx-docs", "install the Debian package sphinx-doc (scripts/setup.sh --corpus sphinx-docs)",
                           HtmlTextRules{{"headerlink", "toctree-wrapper", "contents"}, /*keep_code_blocks=*/false,
                                         /*main_class=*/{}},
                           {"examples"},
                           {}});
}

}  // namespace structlm::data::detail
