// The Sphinx documentation corpora (python-docs, linux-docs, django-docs, ...): libxml2's HTML
// parsing of Sphinx pages (a page cut from python3.11-doc's library/functools.html, PSF licence),
// what is kept and dropped, the page walk, and damaged pages.
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

// The shape of a Sphinx page: navigation before and after the main content, a heading with its
// permalink mark, an API signature, a paragraph with inline code and an entity, a code block.
const char* const kPage = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>functools</title>
<script>var x = "<p>not text</p>";</script><style>p { color: red }</style></head>
<body>
<div class="related" role="navigation" aria-label="related navigation"><ul><li><a href="index.html">index</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="module-functools">
<h1><code class="xref py py-mod docutils literal notranslate"><span class="pre">functools</span></code> — Higher-order functions<a class="headerlink" href="#module-functools" title="Permalink to this heading">¶</a></h1>
<p>The <code class="xref py py-mod docutils literal notranslate"><span class="pre">functools</span></code> module is for higher-order
functions: functions that act on
or return other functions &amp; more.</p>
<dl class="py function">
<dt class="sig sig-object py" id="functools.cache">
<span class="sig-prename descclassname"><span class="pre">&#64;</span></span><span class="sig-prename descclassname"><span class="pre">functools.</span></span><span class="sig-name descname"><span class="pre">cache</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">user_function</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#functools.cache" title="Permalink to this definition">¶</a></dt>
<dd><p>Simple lightweight unbounded function cache.</p>
<div class="highlight-python3 notranslate"><div class="highlight"><pre><span></span><span class="nd">@cache</span>
<span class="k">def</span> <span class="nf">factorial</span><span class="p">(</span><span class="n">n</span><span class="p">):</span>
</pre></div></div>
<ul><li><p>first item</p></li><li>second<br/>item</li></ul>
</dd></dl>
</section>
</div></div></div></div>
<div class="sphinxsidebar" role="navigation"><h3>Previous topic</h3></div>
<div class="footer">&copy; Copyright 2001-2023, Python Software Foundation.</div>
</body></html>
)";

}  // namespace

TEST(HtmlText, SphinxPageMainContentWithoutNavigationMarksOrCode) {
  const std::string text = detail::html_to_text(kPage, "functools.html", {{"headerlink"}, false, {}});
  EXPECT_EQ(text,
            "functools — Higher-order functions\n\n"
            "The functools module is for higher-order functions: functions that act on or return other functions & "
            "more.\n\n"
            "@functools.cache(user_function)\n\n"
            "Simple lightweight unbounded function cache.\n\n"
            "first item\n\nsecond item");
}

TEST(HtmlText, CodeBlocksKeptOnRequestWithTheirLines) {
  const std::string text = detail::html_to_text(kPage, "functools.html", {{"headerlink"}, true, {}});
  EXPECT_NE(text.find("function cache.\n\n@cache\ndef factorial(n):\n\nfirst item"), std::string::npos) << text;
  // Without the class rule the permalink marks would stay: the rule is what drops them.
  EXPECT_NE(detail::html_to_text(kPage, "functools.html").find("functions\xc2\xb6"), std::string::npos);
}

TEST(HtmlText, APageWithoutMainUsesItsBodyAndACutPageIsRefused) {
  EXPECT_EQ(detail::html_to_text("<html><body><p>a  <b>b</b></p><nav>menu</nav>c</body></html>\n", "x.html"), "a b\n\nc");
  const std::string page(kPage);
  const std::string e = error_of([&] { detail::html_to_text(page.substr(0, page.size() / 2), "cut.html"); });
  EXPECT_NE(e.find("cut.html: HTML page cut short"), std::string::npos) << e;
}

TEST(PythonDocsCorpus, OnePerPageWithoutIndexPagesOrSphinxFolders) {
  TempDir t;
  std::filesystem::create_directories(t / "library");
  std::filesystem::create_directories(t / "_static");
  write_file_atomic(t / "library/functools.html", kPage);
  write_file_atomic(t / "glossary.html", "<html><body><div role=\"main\"><p>Glossary text.</p></div></body></html>");
  for (const char* skipped : {"genindex.html", "genindex-A.html", "search.html", "py-modindex.html", "contents.html",
                              "_static/page.html"})
    write_file_atomic(t / skipped, "<html><body><p>index</p></body></html>");
  CorpusPaths p;
  p.python_docs_dir = t.path();
  const Corpus c = load_corpus("python-docs", p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.name, "python-docs");
  EXPECT_EQ(c.docs[0].id, "glossary");
  EXPECT_EQ(c.docs[0].text, "Glossary text.");
  EXPECT_EQ(c.docs[1].id, "library/functools");
  EXPECT_EQ(c.docs[1].text.find("\xc2\xb6"), std::string::npos);  // no permalink marks
  EXPECT_EQ(c.docs[1].text.find("factorial"), std::string::npos);  // no code blocks

  // A page that is not text, or is cut short, is refused by name; a missing package is named.
  write_file_atomic(t / "library/broken.html", std::string(kPage).substr(0, 300));
  std::string e = error_of([&] { load_corpus("python-docs", p); });
  EXPECT_NE(e.find(t / "library/broken.html"), std::string::npos) << e;
  write_file_atomic(t / "library/broken.html", std::string("\x00\xff\x10<html>", 9));
  e = error_of([&] { load_corpus("python-docs", p); });
  EXPECT_NE(e.find(t / "library/broken.html"), std::string::npos) << e;
  p.python_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("python-docs", p); }).find("python3.11-doc"), std::string::npos);
}

// The Linux kernel documentation (the shape of linux-doc-6.1's Read-the-Docs pages): an index
// page's table of contents goes, the generated listings are not documents, the rest as python-docs.
TEST(LinuxDocsCorpus, TablesOfContentsAndGeneratedListingsAreLeftOut) {
  TempDir t;
  for (const char* dir : {"admin-guide", "process", "_sources/admin-guide"}) std::filesystem::create_directories(t / dir);
  write_file_atomic(t / "admin-guide/index.html", R"(<!DOCTYPE html><html><body>
<nav class="wy-nav-side"><div class="wy-menu"><ul><li class="toctree-l1"><a href="README.html">Release notes</a></li></ul></div></nav>
<div role="main" class="document" itemscope="itemscope">
<section id="the-linux-kernel-user-s-and-administrator-s-guide">
<h1>The Linux kernel user&#8217;s and administrator&#8217;s guide<a class="headerlink" href="#x">&#182;</a></h1>
<p>The following is a collection of user-oriented documents.</p>
<div class="toctree-wrapper compound"><ul><li class="toctree-l1"><a class="reference internal" href="README.html">Linux kernel release 6.x</a></li></ul></div>
<p>This section describes CPU vulnerabilities and their mitigations.</p>
</section></div>
<footer><div role="contentinfo"><p>&#169; The kernel development community.</p></div></footer>
</body></html>
)");
  write_file_atomic(t / "admin-guide/README.html", R"(<html><body><div role="main">
<h1>Linux kernel release 6.x</h1><p>Linux is a clone of the operating system Unix.</p>
<div class="highlight-none notranslate"><div class="highlight"><pre>make menuconfig
</pre></div></div><p>Use <code class="docutils literal notranslate"><span class="pre">make</span></code> to build.</p>
</div></body></html>
)");
  for (const char* listing : {"process/maintainers.html", "admin-guide/abi-testing.html", "admin-guide/abi-stable.html",
                              "admin-guide/abi-obsolete.html", "admin-guide/abi-removed.html",
                              "_sources/admin-guide/README.html"})
    write_file_atomic(t / listing, "<html><body><div role=\"main\"><p>listing</p></div></body></html>");
  CorpusPaths p;
  p.linux_docs_dir = t.path();
  const Corpus c = load_corpus("linux-docs", p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.name, "linux-docs");
  EXPECT_EQ(c.docs[0].id, "admin-guide/README");
  EXPECT_EQ(c.docs[0].text,
            "Linux kernel release 6.x\n\nLinux is a clone of the operating system Unix.\n\nUse make to build.");
  EXPECT_EQ(c.docs[1].id, "admin-guide/index");
  EXPECT_EQ(c.docs[1].text,
            "The Linux kernel user\xe2\x80\x99s and administrator\xe2\x80\x99s guide\n\n"
            "The following is a collection of user-oriented documents.\n\n"
            "This section describes CPU vulnerabilities and their mitigations.");
  // Without the class rule the table of contents would stay: the rule is what drops it.
  const std::string raw = read_file(t / "admin-guide/index.html");
  EXPECT_NE(detail::html_to_text(raw, "index.html").find("Linux kernel release 6.x"), std::string::npos);
  p.linux_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("linux-docs", p); }).find("linux-doc-6.1"), std::string::npos);
}

// Django's documentation (the shape of python-django-doc's pages: the djangodocs theme marks no
// element role="main"; the content is div.yui-g, between the header's global navigation and the
// sidebar). The class rule finds it; navigation, sidebar, local table of contents, code blocks
// and the two listings go; release notes stay; a page without the content element is refused.
TEST(DjangoDocsCorpus, TheThemesContentElementOnlyWithoutListings) {
  TempDir t;
  for (const char* dir : {"topics/db", "releases", "ref/class-based-views", "_modules/django"})
    std::filesystem::create_directories(t / dir);
  const char* const page = R"(<!DOCTYPE html><html lang="en"><head><title>Making queries</title></head><body>
<div class="document"><div id="custom-doc" class="yui-t6">
<div id="hd"><h1><a href="../../index.html">Django 3.2.25 documentation</a></h1>
<div id="global-nav"><a title="Home page" href="../../index.html">Home</a> | <a href="../../py-modindex.html">Module Index</a></div>
<div class="nav">&laquo; <a href="models.html" title="Models">previous</a> | <a href="../index.html" accesskey="U">up</a></div></div>
<div id="bd"><div id="yui-main"><div class="yui-b"><div class="yui-g" id="topics-db-queries">
<div class="section" id="s-making-queries"><span id="making-queries"></span><h1>Making queries<a class="headerlink" href="#making-queries" title="Permalink to this heading">&#182;</a></h1>
<div class="contents local topic" id="contents"><ul class="simple"><li><a class="reference internal" href="#creating-objects">Creating objects</a></li></ul></div>
<p>To create an object, call <a class="reference internal" href="../../ref/models/instances.html"><code class="xref py py-meth docutils literal notranslate"><span class="pre">save()</span></code></a> to save it to the database.</p>
<div class="highlight-default notranslate"><div class="highlight"><pre><span></span><span class="gp">&gt;&gt;&gt; </span><span class="n">b</span><span class="o">.</span><span class="n">save</span><span class="p">()</span>
</pre></div></div>
<dl class="py method"><dt class="sig sig-object py" id="django.db.models.Model.save"><span class="sig-prename descclassname"><span class="pre">Model.</span></span><span class="sig-name descname"><span class="pre">save</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="pre">force_insert</span><span class="o"><span class="pre">=</span></span><span class="default_value"><span class="pre">False</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#x">&#182;</a></dt>
<dd><p>Saves the object.</p></dd></dl>
<div class="toctree-wrapper compound"><ul><li class="toctree-l1"><a class="reference internal" href="aggregation.html">Aggregation</a></li></ul></div>
</div></div></div></div>
<div class="yui-b" id="sidebar"><div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li><a href="#">Making queries</a></li></ul>
<h3>Browse</h3><ul><li>Prev: <a href="models.html">Models</a></li></ul></div></div></div>
<div id="ft"><div class="nav">&laquo; <a href="models.html">previous</a> | <a href="aggregation.html">next</a> &raquo;</div></div>
</div><div class="clearer"></div></div></body></html>
)";
  write_file_atomic(t / "topics/db/queries.html", page);
  auto content = [](const std::string& id, const std::string& body) {
    return "<html><body><div id=\"hd\"><h1>Django 3.2.25 documentation</h1></div><div class=\"yui-g\" id=\"" + id +
           "\">" + body + "</div></body></html>\n";
  };
  write_file_atomic(t / "releases/3.2.10.html",
                    content("releases-3.2.10", "<h1>Django 3.2.10 release notes</h1><p>Django 3.2.10 fixes a security "
                                               "issue with severity \xe2\x80\x9clow\xe2\x80\x9d and a bug in 3.2.9.</p>"));
  for (const char* listing : {"releases/security.html", "ref/class-based-views/flattened-index.html",
                              "_modules/django/shortcuts.html", "genindex.html", "search.html"})
    write_file_atomic(t / listing, content("listing", "<p>listing</p>"));
  CorpusPaths p;
  p.django_docs_dir = t.path();
  const Corpus c = load_corpus("django-docs", p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.name, "django-docs");
  EXPECT_EQ(c.docs[0].id, "releases/3.2.10");
  EXPECT_EQ(c.docs[0].text,
            "Django 3.2.10 release notes\n\nDjango 3.2.10 fixes a security issue with severity \xe2\x80\x9clow\xe2\x80\x9d "
            "and a bug in 3.2.9.");
  EXPECT_EQ(c.docs[1].id, "topics/db/queries");
  EXPECT_EQ(c.docs[1].text,
            "Making queries\n\n"
            "To create an object, call save() to save it to the database.\n\n"
            "Model.save(force_insert=False)\n\n"
            "Saves the object.");
  // Without the theme's class the whole body would be read, header and sidebar included: the rule
  // is what finds the content.
  const std::string body = detail::html_to_text(page, "queries.html");
  EXPECT_NE(body.find("Django 3.2.25 documentation"), std::string::npos);
  EXPECT_NE(body.find("Browse"), std::string::npos);

  // A page of another theme (no div.yui-g) is refused by name rather than read whole.
  write_file_atomic(t / "topics/db/other.html", "<html><body><div role=\"main\"><p>text</p></div></body></html>\n");
  std::string e = error_of([&] { load_corpus("django-docs", p); });
  EXPECT_NE(e.find(t / "topics/db/other.html"), std::string::npos) << e;
  EXPECT_NE(e.find("yui-g"), std::string::npos) << e;
  p.django_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("django-docs", p); }).find("python-django-doc"), std::string::npos);
}

namespace {

// A page of Sphinx's basic themes: navigation around div[role=main].
std::string sphinx_page(const std::string& main) {
  return "<!DOCTYPE html><html><head><title>t</title></head><body>\n"
         "<div class=\"related\" role=\"navigation\"><ul><li><a href=\"genindex.html\">index</a></li></ul></div>\n"
         "<div class=\"body\" role=\"main\">" + main + "</div>\n"
         "<div class=\"sphinxsidebar\" role=\"navigation\"><h3>Table of Contents</h3></div>\n"
         "<div class=\"footer\">&#169; Copyright.</div></body></html>\n";
}

}  // namespace

// CMake's documentation (the shape of cmake-doc's pages): a page whose name holds spaces keeps
// them in its id, the local table of contents and the code go, inline code and the signature
// stay, the Sphinx folders are not read.
TEST(CmakeDocsCorpus, ReferencePagesWithoutTablesOfContentsOrCode) {
  TempDir t;
  for (const char* dir : {"command", "generator", "release", "_sources/command"}) std::filesystem::create_directories(t / dir);
  write_file_atomic(t / "command/add_library.html", sphinx_page(R"(
<section id="add-library"><span id="command:add_library"></span><h1>add_library<a class="headerlink" href="#add-library">&#182;</a></h1>
<div class="contents local topic" id="contents"><ul class="simple"><li><a class="reference internal" href="#normal-libraries">Normal Libraries</a></li></ul></div>
<p>Add a library to the project using the specified source files.</p>
<section id="normal-libraries"><h2>Normal Libraries<a class="headerlink" href="#normal-libraries">&#182;</a></h2>
<div class="highlight-cmake notranslate"><div class="highlight"><pre><span></span><span class="nb">add_library</span><span class="p">(</span><span class="nv">&lt;name&gt;</span><span class="p">)</span>
</pre></div></div>
<p>Adds a library target called <code class="docutils literal notranslate"><span class="pre">&lt;name&gt;</span></code> to be built.</p>
</section></section>)"));
  write_file_atomic(t / "generator/Visual Studio 17 2022.html",
                    sphinx_page("<h1>Visual Studio 17 2022</h1><p>Generates Visual Studio 17 (VS 2022) project files.</p>"));
  write_file_atomic(t / "release/3.25.html",
                    sphinx_page("<h1>CMake 3.25 Release Notes</h1><p>The <code>block()</code> command was added.</p>"));
  write_file_atomic(t / "_sources/command/add_library.html", sphinx_page("<p>source</p>"));
  write_file_atomic(t / "genindex.html", sphinx_page("<p>index</p>"));
  CorpusPaths p;
  p.cmake_docs_dir = t.path();
  const Corpus c = load_corpus("cmake-docs", p);
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.name, "cmake-docs");
  EXPECT_EQ(c.docs[0].id, "command/add_library");
  EXPECT_EQ(c.docs[0].text,
            "add_library\n\nAdd a library to the project using the specified source files.\n\nNormal Libraries\n\n"
            "Adds a library target called <name> to be built.");
  EXPECT_EQ(c.docs[1].id, "generator/Visual Studio 17 2022");
  EXPECT_EQ(c.docs[1].text, "Visual Studio 17 2022\n\nGenerates Visual Studio 17 (VS 2022) project files.");
  EXPECT_EQ(c.docs[2].id, "release/3.25");
  // Without the class rule the local table of contents would stay: the rule is what drops it.
  EXPECT_NE(detail::html_to_text(read_file(t / "command/add_library.html"), "x.html", {{"headerlink"}, false, {}})
                .find("Normal Libraries\n\nAdd a library"),
            std::string::npos);
  p.cmake_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("cmake-docs", p); }).find("cmake-doc"), std::string::npos);
}

// SQLAlchemy's documentation (the shape of python-sqlalchemy-doc's pages): a changelog entry keeps
// its sentences and loses its tag line, an API signature stays, the licence page is not read.
TEST(SqlalchemyDocsCorpus, ChangelogEntriesWithoutTheirTagLines) {
  TempDir t;
  for (const char* dir : {"changelog", "core", "_modules/sqlalchemy"}) std::filesystem::create_directories(t / dir);
  write_file_atomic(t / "changelog/changelog_14.html", sphinx_page(R"(
<section id="changelog"><h1>1.4 Changelog<a class="headerlink" href="#changelog">&#182;</a></h1>
<ul class="simple">
<li><p class="caption" id="change-1.4.46-1"><span class="target" id="change-18f5"><strong>[general] [bug]</strong> <a class="changelog-reference headerlink reference internal" href="#change-18f5">&#182;</a></span><p>Fixed regression where the base compat module was calling upon
<code class="docutils literal notranslate"><span class="pre">platform.architecture()</span></code>.</p>
<p>References: <a class="reference external" href="https://www.sqlalchemy.org/trac/ticket/8995">#8995</a></p>
</p></li></ul></section>)"));
  write_file_atomic(t / "core/selectable.html", sphinx_page(R"(
<dl class="py function"><dt class="sig sig-object py" id="sqlalchemy.sql.expression.exists"><em class="property"><span class="pre">function</span> </em><span class="sig-prename descclassname"><span class="pre">sqlalchemy.sql.expression.</span></span><span class="sig-name descname"><span class="pre">exists</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="o"><span class="pre">*</span></span><span class="n"><span class="pre">args</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#x">&#182;</a></dt>
<dd><p>Construct a new <code>Exists</code> construct.</p></dd></dl>)"));
  write_file_atomic(t / "copyright.html", sphinx_page("<h1>Appendix: Copyright</h1><p>This is the MIT license.</p>"));
  write_file_atomic(t / "_modules/sqlalchemy/engine.html", sphinx_page("<p>source</p>"));
  CorpusPaths p;
  p.sqlalchemy_docs_dir = t.path();
  const Corpus c = load_corpus("sqlalchemy-docs", p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.name, "sqlalchemy-docs");
  EXPECT_EQ(c.docs[0].id, "changelog/changelog_14");
  EXPECT_EQ(c.docs[0].text,
            "1.4 Changelog\n\nFixed regression where the base compat module was calling upon platform.architecture().\n\n"
            "References: #8995");
  EXPECT_EQ(c.docs[1].id, "core/selectable");
  EXPECT_EQ(c.docs[1].text, "function sqlalchemy.sql.expression.exists(*args)\n\nConstruct a new Exists construct.");
  p.sqlalchemy_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("sqlalchemy-docs", p); }).find("python-sqlalchemy-doc"), std::string::npos);
}

// LLVM's documentation: the generated AMDGPU syntax pages (a folder) are left out, a page of the
// same name prefix outside it (AMDGPUUsage) is not.
TEST(LlvmDocsCorpus, TheAssemblerSyntaxFolderIsLeftOut) {
  TempDir t;
  std::filesystem::create_directories(t / "AMDGPU");
  write_file_atomic(t / "LangRef.html", sphinx_page(R"(<h1>LLVM Language Reference Manual</h1>
<div class="contents local topic" id="contents"><ul><li><a href="#abstract">Abstract</a></li></ul></div>
<p>This document is a reference manual for the LLVM assembly language.</p>
<div class="highlight-llvm notranslate"><div class="highlight"><pre>%0 = add i32 %X, %X</pre></div></div>)"));
  write_file_atomic(t / "AMDGPUUsage.html", sphinx_page("<h1>User Guide for AMDGPU Backend</h1><p>The AMDGPU backend.</p>"));
  write_file_atomic(t / "AMDGPU/gfx10_addr.html", sphinx_page("<h1>addr</h1><p>A 64-bit flat global address.</p>"));
  CorpusPaths p;
  p.llvm_docs_dir = t.path();
  const Corpus c = load_corpus("llvm-docs", p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.name, "llvm-docs");
  EXPECT_EQ(c.docs[0].id, "AMDGPUUsage");
  EXPECT_EQ(c.docs[1].id, "LangRef");
  EXPECT_EQ(c.docs[1].text,
            "LLVM Language Reference Manual\n\nThis document is a reference manual for the LLVM assembly language.");
  p.llvm_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("llvm-docs", p); }).find("llvm-15-doc"), std::string::npos);
}

// Clang's documentation: the two generated listings are not documents.
TEST(ClangDocsCorpus, GeneratedListingsAreLeftOut) {
  TempDir t;
  write_file_atomic(t / "UsersManual.html",
                    sphinx_page("<h1>Clang Compiler User\xe2\x80\x99s Manual</h1><p>The Clang Compiler is an open-source "
                                "compiler for the C family of programming languages.</p>"));
  write_file_atomic(t / "ClangCommandLineReference.html", sphinx_page("<p>-fno-foo</p>"));
  write_file_atomic(t / "ClangFormattedStatus.html", sphinx_page("<table><tr><td>clang/lib</td><td>50%</td></tr></table>"));
  CorpusPaths p;
  p.clang_docs_dir = t.path();
  const Corpus c = load_corpus("clang-docs", p);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.name, "clang-docs");
  EXPECT_EQ(c.docs[0].id, "UsersManual");
  EXPECT_EQ(c.docs[0].text,
            "Clang Compiler User\xe2\x80\x99s Manual\n\nThe Clang Compiler is an open-source compiler for the C family "
            "of programming languages.");
  p.clang_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("clang-docs", p); }).find("clang-15-doc"), std::string::npos);
}

// pandas' documentation: the PyData theme's <main role="main">, without its previous/next links,
// "[source]" links or the API reference's summary tables; redirects (generated/ and the old places
// of moved pages) and the Styler's example tables are not documents.
TEST(PandasDocsCorpus, MainWithoutPrevNextSourceLinksOrSummaryTables) {
  TempDir t;
  const std::string api = R"(<!DOCTYPE html><html><head><title>t</title></head><body>
<div class="bd-sidebar"><nav class="bd-links"><ul><li class="toctree-l1"><a href="io.html">Input/output</a></li></ul></nav></div>
<main class="col-12 col-md-9 bd-content" role="main"><div>
<section id="pandas-dataframe-merge">
<h1>pandas.DataFrame.merge<a class="headerlink" href="#pandas-dataframe-merge">¶</a></h1>
<dl class="py method"><dt class="sig sig-object py" id="pandas.DataFrame.merge"><span class="sig-prename descclassname"><span class="pre">DataFrame.</span></span><span class="sig-name descname"><span class="pre">merge</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">right</span></span></em><span class="sig-paren">)</span><a class="reference external" href="https://github.com/pandas-dev/pandas/blob/v1.5.3/pandas/core/frame.py#L10074"><span class="viewcode-link"><span class="pre">[source]</span></span></a><a class="headerlink" href="#pandas.DataFrame.merge">¶</a></dt>
<dd><p>Merge DataFrame or named Series objects with a database-style join.</p>
<dl class="field-list"><dt class="field-odd">Parameters<span class="colon">:</span></dt>
<dd class="field-odd"><dl><dt><strong>right</strong><span class="classifier">DataFrame or named Series</span></dt><dd><p>Object to merge with.</p></dd></dl></dd></dl>
<div class="doctest highlight-default notranslate"><div class="highlight"><pre><span class="gp">&gt;&gt;&gt; </span>df1.merge(df2, how='cross')</pre></div></div>
</dd></dl></section></div>
<div class='prev-next-area'><a class='left-prev' id="prev-link" href="pandas.DataFrame.memory_usage.html" title="previous page">
<div class="prev-next-info"><p class="prev-next-subtitle">previous</p><p class="prev-next-title">pandas.DataFrame.memory_usage</p></div></a></div>
</main></body></html>
)";
  write_file_atomic(t / "reference/api/pandas.DataFrame.merge.html", api);
  write_file_atomic(t / "reference/frame.html", sphinx_page(R"(<h1>DataFrame</h1><p>Combining / joining / merging</p>
<table class="autosummary longtable table autosummary"><tbody><tr class="row-odd"><td><p><a class="reference internal" href="api/pandas.DataFrame.merge.html"><code>DataFrame.merge</code></a>(right[, how, on, ...])</p></td>
<td><p>Merge DataFrame or named Series objects with a database-style join.</p></td></tr></tbody></table>)"));
  write_file_atomic(t / "generated/pandas.DataFrame.merge.html",
                    "<html><head><meta http-equiv=\"refresh\" content=\"0;URL=../reference/api/pandas.DataFrame.merge.html\"/>"
                    "</head><body><p>The page has been moved to <a href=\"../reference/api/pandas.DataFrame.merge.html\">this "
                    "page</a></p></body></html>\n");
  write_file_atomic(t / "merging.html",  // a redirect left at the page's old place, its </html> miswritten
                    "<html>\n<head>\n<meta http-equiv=\"refresh\" content=\"0;URL=user_guide/merging.html\"/>\n</head>\n"
                    "<body>\n<p>The page has been moved to <a href=\"user_guide/merging.html\">Merge</a></p>\n</body>\n<html>\n");
  write_file_atomic(t / "user_guide/style.html", sphinx_page("<h1>Table Visualization</h1><table><tr><td>1.0</td></tr></table>"));
  CorpusPaths p;
  p.pandas_docs_dir = t.path();
  const Corpus c = load_corpus("pandas-docs", p);
  EXPECT_EQ(c.name, "pandas-docs");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "reference/api/pandas.DataFrame.merge");
  EXPECT_EQ(c.docs[0].text,
            "pandas.DataFrame.merge\n\nDataFrame.merge(right)\n\n"
            "Merge DataFrame or named Series objects with a database-style join.\n\nParameters:\n\n"
            "right : DataFrame or named Series\n\nObject to merge with.");
  EXPECT_EQ(c.docs[1].id, "reference/frame");
  EXPECT_EQ(c.docs[1].text, "DataFrame\n\nCombining / joining / merging");
  write_file_atomic(t / "whatsnew/v1.5.3.html", api.substr(0, 600));  // cut short
  const std::string e = error_of([&] { load_corpus("pandas-docs", p); });
  EXPECT_NE(e.find(t / "whatsnew/v1.5.3.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  p.pandas_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("pandas-docs", p); }).find("python-pandas-doc"), std::string::npos);
}

// Sphinx's own documentation: the list of projects using Sphinx is not a document.
TEST(SphinxDocsCorpus, TheProjectListIsLeftOut) {
  TempDir t;
  write_file_atomic(t / "usage/quickstart.html",
                    sphinx_page("<h1>Getting Started</h1><p>Sphinx is a <em>documentation generator</em> or a tool that "
                                "translates a set of plain text source files into various output formats.</p>"));
  write_file_atomic(t / "examples.html", sphinx_page("<h1>Projects using Sphinx</h1><ul><li><p>Alabaster</p></li></ul>"));
  CorpusPaths p;
  p.sphinx_docs_dir = t.path();
  const Corpus c = load_corpus("sphinx-docs", p);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.name, "sphinx-docs");
  EXPECT_EQ(c.docs[0].id, "usage/quickstart");
  EXPECT_EQ(c.docs[0].text,
            "Getting Started\n\nSphinx is a documentation generator or a tool that translates a set of plain text source "
            "files into various output formats.");
  p.sphinx_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("sphinx-docs", p); }).find("sphinx-doc"), std::string::npos);
}
