// The Texinfo manuals (octave-docs, maxima-docs): pages in the shape makeinfo writes them for
// octave-doc and maxima-doc (cut from Octave's Sums-and-Products.html, GPL-3+, and Maxima's
// maxima_50.html, GPL-2): navigation, menus, permalink marks, code blocks, index pages and the
// pages that repeat the manual go; definitions and prose stay.
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

std::string page(const std::string& id, const std::string& body) {
  return "<!DOCTYPE html>\n<html>\n<head>\n<title>" + id +
         " (GNU Octave (version 7.3.0))</title>\n<meta name=\"Generator\" content=\"makeinfo\">\n"
         "<style type=\"text/css\">a.copiable-anchor {visibility: hidden}</style>\n</head>\n<body lang=\"en\">\n"
         "<div class=\"section\" id=\"" + id + "\">\n<div class=\"header\">\n<p>\n"
         "Next: <a href=\"Utility-Functions.html\" accesskey=\"n\" rel=\"next\">Utility Functions</a>, Up: <a "
         "href=\"Arithmetic.html\" accesskey=\"u\" rel=\"up\">Arithmetic</a> &nbsp; [<a href=\"index.html#SEC_Contents\" "
         "title=\"Table of contents\" rel=\"contents\">Contents</a>][<a href=\"Concept-Index.html\" title=\"Index\" "
         "rel=\"index\">Index</a>]</p>\n</div>\n<hr>\n" + body + "\n</div>\n</body>\n</html>\n";
}

const char* const kSums = R"(<span id="Sums-and-Products-1"></span><h3 class="section">17.4 Sums and Products</h3>

<span id="XREFsum"></span><dl class="def">
<dt id="index-sum"><span class="category">: </span><span><em></em> <strong>sum</strong> <em>(<var>x</var>)</em><a href='#index-sum' class='copiable-anchor'> &para;</a></span></dt>
<dt id="index-sum-1"><span class="category">: </span><span><em></em> <strong>sum</strong> <em>(<var>x</var>, <var>dim</var>)</em><a href='#index-sum-1' class='copiable-anchor'> &para;</a></span></dt>
<dd><p>Sum of elements along dimension <var>dim</var>.
</p>
<p>For example:
</p>
<div class="example">
<pre class="example">sum ([true, true])
   &rArr; 2
</pre></div>

<p>If <code>&quot;double&quot;</code> is given the sum is performed in double precision even for
single precision inputs.
</p></dd></dl>)";

const char* const kArithmetic = R"(<span id="Arithmetic-1"></span><h2 class="chapter">17 Arithmetic</h2>

<ul class="section-toc">
<li><a href="Exponents-and-Logarithms.html" accesskey="1">Exponents and Logarithms</a></li>
<li><a href="Sums-and-Products.html" accesskey="4">Sums and Products</a></li>
</ul>)";

const char* const kIndex = R"(<span id="Concept-Index-1"></span><h2 class="appendix">Concept Index</h2>
<table class="index-cp" border="0">
<tr><td></td><td valign="top"><a href="Sums-and-Products.html#index-sum">sum</a>:</td><td>&nbsp;</td><td valign="top"><a href="Sums-and-Products.html">Sums and Products</a></td></tr>
</table>)";

const char* const kBinomial = R"(<span id="Combinatorial-Functions-1"></span><h3 class="section">10.3 Combinatorial Functions</h3>
<span id="binomial"></span><dl class="def">
<dt id="index-binomial"><span class="category">Function: </span><span><strong>binomial</strong> <em>(<var>x</var>, <var>y</var>)</em><a href='#index-binomial' class='copiable-anchor'> &para;</a></span></dt>
<dd>
<p>The binomial coefficient <code><var>x</var>!/(<var>y</var>! (<var>x</var> - <var>y</var>)!)</code>.
If <var>x</var> and <var>y</var> are integers, then the numerical value of the binomial
coefficient is computed.
</p>
<div class="example">
<pre class="example">(%i1) binomial (11, 7);
(%o1)                          330
</pre></div>
<div class=categorybox>
Categories:
<a href="maxima_378.html#Category_003a-Number-theory">Number theory</a>
&middot;
</div>
</dd></dl>)";

const char* const kCategories = R"(<span id="Documentation-Categories-1"></span><h2 class="chapter">B Documentation Categories</h2>
<span id="Category_003a-Airy-functions"></span><div class=categorybox>
<p><b>Category: Airy functions</b>
</p>
<p><a href="maxima_80.html#Item_003a-Special_002fdeffn_002fairy_005fai">airy_ai</a>
&middot;
<a href="maxima_80.html#Item_003a-Special_002fdeffn_002fairy_005fdai">airy_dai</a>
</div>)";

}  // namespace

TEST(OctaveDocsCorpus, OnePerNodeWithoutNavigationMenusCodeOrIndexes) {
  TempDir t;
  write_file_atomic(t / "Sums-and-Products.html", page("Sums-and-Products", kSums));
  write_file_atomic(t / "Arithmetic.html", page("Arithmetic", kArithmetic));
  write_file_atomic(t / "Concept-Index.html", page("Concept-Index", kIndex));
  write_file_atomic(t / "octave.css", "body { margin: 0 }");
  // An anchor's redirect, as makeinfo 6.8 writes it (without </html>).
  write_file_atomic(t / "XREFsum.html",
                    "<!DOCTYPE html>\n<html>\n<!-- Created by GNU Texinfo 6.8, https://www.gnu.org/software/texinfo/ -->\n"
                    "<!-- This file redirects to the location of a node or anchor -->\n<head>\n"
                    "<meta http-equiv=\"Refresh\" content=\"0; url=Sums-and-Products.html#XREFsum\">\n</head>\n"
                    "<body lang=\"en\">\n<p>The node you are looking for is at <a "
                    "href=\"Sums-and-Products.html#XREFsum\">XREFsum</a>.</p>\n</body>\n");
  CorpusPaths p;
  p.octave_docs_dir = t.path();
  const Corpus c = load_corpus("octave-docs", p);
  EXPECT_EQ(c.name, "octave-docs");
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "Sums-and-Products");
  EXPECT_EQ(c.docs[0].text,
            "17.4 Sums and Products\n\nsum (x)\n\nsum (x, dim)\n\nSum of elements along dimension dim.\n\n"
            "For example:\n\n"
            "If \"double\" is given the sum is performed in double precision even for single precision inputs.");
  // Without the rules, the navigation line and the permalink marks would stay.
  const std::string raw = detail::html_to_text(page("Sums-and-Products", kSums), "x.html");
  EXPECT_NE(raw.find("Next: Utility Functions"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\xc2\xb6"), std::string::npos) << raw;
}

TEST(MaximaDocsCorpus, DefinitionsWithoutCategoriesAndNoRepeatsOfTheManual) {
  TempDir t;
  write_file_atomic(t / "maxima_50.html", page("Combinatorial-Functions", kBinomial));
  write_file_atomic(t / "maxima_378.html", page("Documentation-Categories", kCategories));
  write_file_atomic(t / "maxima_singlepage.html", page("Top", kBinomial));
  write_file_atomic(t / "maxima_toc.html", page("Top", "<h1>Maxima Manual</h1><p>1 Introduction to Maxima</p>"));
  CorpusPaths p;
  p.maxima_docs_dir = t.path();
  const Corpus c = load_corpus("maxima-docs", p);
  EXPECT_EQ(c.name, "maxima-docs");
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "maxima_50");
  EXPECT_EQ(c.docs[0].text,
            "10.3 Combinatorial Functions\n\nFunction: binomial (x, y)\n\n"
            "The binomial coefficient x!/(y! (x - y)!). If x and y are integers, then the numerical value of the "
            "binomial coefficient is computed.");
}

TEST(TexinfoDocsCorpus, DamagedPagesAndMissingPackagesAreNamed) {
  TempDir t;
  write_file_atomic(t / "Sums-and-Products.html", page("Sums-and-Products", kSums));
  write_file_atomic(t / "Broken.html", page("Sums-and-Products", kSums).substr(0, 700));
  CorpusPaths p;
  p.octave_docs_dir = t.path();
  std::string e = error_of([&] { load_corpus("octave-docs", p); });
  EXPECT_NE(e.find(t / "Broken.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  // An index page cut short is refused too, not passed over as an index.
  write_file_atomic(t / "Broken.html", page("Concept-Index", kIndex).substr(0, 900));
  e = error_of([&] { load_corpus("octave-docs", p); });
  EXPECT_NE(e.find(t / "Broken.html"), std::string::npos) << e;
  write_file_atomic(t / "Broken.html", std::string("\x00\xff\x10<html></html>", 16));
  e = error_of([&] { load_corpus("octave-docs", p); });
  EXPECT_NE(e.find(t / "Broken.html"), std::string::npos) << e;
  p.octave_docs_dir = t / "nowhere";
  e = error_of([&] { load_corpus("octave-docs", p); });
  EXPECT_NE(e.find("octave-doc"), std::string::npos) << e;
  p.maxima_docs_dir = t / "nowhere";
  e = error_of([&] { load_corpus("maxima-docs", p); });
  EXPECT_NE(e.find("maxima-doc"), std::string::npos) << e;
}

// The packages themselves, where scripts/setup.sh --corpus octave-docs / maxima-docs installed them.
TEST(TexinfoDocsCorpus, RealManualsWhereInstalled) {
  const CorpusPaths p;
  bool any = false;
  if (is_directory(p.octave_docs_dir)) {
    any = true;
    const Corpus c = load_corpus("octave-docs", p);
    EXPECT_GT(c.docs.size(), 450u);  // 488 nodes in 7.3.0
    for (const auto& d : c.docs) {
      EXPECT_EQ(d.text.find("Next: "), std::string::npos) << d.id;
      EXPECT_NE(d.id, "Concept-Index");
      if (d.id == "Sums-and-Products") {
        EXPECT_EQ(d.text.rfind("17.4 Sums and Products\n\nsum (x)\n\n", 0), 0u) << d.text.substr(0, 100);
      }
    }
  }
  if (is_directory(p.maxima_docs_dir)) {
    any = true;
    const Corpus c = load_corpus("maxima-docs", p);
    EXPECT_GT(c.docs.size(), 250u);  // 273 in 5.46.0
    for (const auto& d : c.docs) {
      EXPECT_EQ(d.text.find("Categories:"), std::string::npos) << d.id;
      EXPECT_NE(d.id, "maxima_singlepage");
    }
  }
  if (!any) GTEST_SKIP() << "octave-doc, maxima-doc not installed; scripts/setup.sh --corpus octave-docs installs one";
}
