// The Erlang/OTP documentation (erlang-docs): pages in the shape erlang-doc ships them (cut from
// lib/stdlib-4.2/doc/html/lists.html, Apache-2.0): div#content only, no footer, link marks, type
// specifications or code; front pages and pages of other tools left out.
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

std::string page(const std::string& content) {
  return R"(<!DOCTYPE html>
<html>
<head><title>Erlang -- lists</title><link rel="stylesheet" href="../../../../doc/otp_doc.css" type="text/css"></head>
<body>
<div id="container">
<script id="js" type="text/javascript" language="JavaScript" src="../../../../doc/js/flipmenu/flipmenu.js"></script>
<div class="topbar"><div class="topbar-title"><a href="../../../../doc/index.html">Erlang/OTP 25.2.3</a></div></div>
<aside class="hide-mobile" id="leftnav"><nav class="leftnav-tube"><p class="section-title">STDLIB</p><ul class="panel-sections"><li title="lists"><a href="lists.html">lists</a></li></ul></nav></aside>
<div id="content">
)" + content + R"(
<div class="footer">
<hr>
<p>Copyright © 1997-2026 Ericsson AB. All Rights Reserved.</p>
</div>
</div>
</div>
<script type="text/javascript">window.__otpTopDocDir = '../../../../doc/js/';</script>
</body>
</html>
)";
}

const char* const kLists = R"(<div class="innertube"></div>
<!-- refpage --><div class="innertube"><center><h1>lists</h1></center></div>
  <div class="innertube">
<h3 id="module-summary" class="title-link">
<div class="title-name">Module Summary</div>
<div class="title-anchors"><span class="ghlink-after"><a href="#module-summary" title="Link to this place!"><span class="paperclip-after"></span></a></span></div>
</h3>
<div class="REFBODY module-summary-body">List processing functions.</div>
</div>
<div class="exports-body">
<article class="func"><h4 id="all-2" class="bold_code title-link func-head">
<div class="title-anchors"><span class="ghlink-before"><a href="#all-2" title="Link to this place!"><span class="paperclip-before"></span></a></span></div>
<span class="title-name">all(Pred, List) -&gt; <span class="bold_code bc-14"><a href="javascript:erlhref('../../../../doc/../','erts','erlang.html#type-boolean');">boolean()</a></span></span>
</h4>
<div class="REFBODY fun-types">
<h3 id="types" class="func-types-title">Types</h3>
<div class="REFTYPES rt-1"><span class="bold_code bc-2">Pred = fun((Elem :: T) -&gt; boolean())</span></div>
</div>
<div class="exports-tube"><div class="REFBODY rb-7">
        <p>Returns <span class="code">true</span> if <span class="code">Pred(Elem)</span>
          returns <span class="code">true</span> for all elements <span class="code">Elem</span> in
          <span class="code">List</span>, otherwise <span class="code">false</span>.</p>
        <div class="example"><pre>
&gt; <span class="bold_code bc-12">lists:all(fun is_atom/1, [a, b]).</span>
true</pre></div>
      </div></div></article>
</div>)";

}  // namespace

TEST(ErlangDocsCorpus, ContentOnlyWithoutTypesCodeOrFrontPages) {
  TempDir t;
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/lists.html", page(kLists));
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/users_guide.html",
                    page("<div class=\"innertube\"><center><h1>STDLIB User's Guide</h1><h4>Version 4.2</h4></center></div>"));
  write_file_atomic(t / "lib/jinterface-1.13.1/doc/html/java/overview-summary.html",
                    "<html><body><h1>Jinterface</h1><p>The Java API.</p></body></html>\n");
  write_file_atomic(t / "doc/installation_guide/source/INSTALL.html",
                    "<html><head><meta HTTP-EQUIV=\"REFRESH\" content=\"5; url=../INSTALL.html\"><title>This page has "
                    "moved</title></head><body><h1>This page has moved</h1></body></html>");
  CorpusPaths p;
  p.erlang_docs_dir = t.path();
  const Corpus c = load_corpus("erlang-docs", p);
  EXPECT_EQ(c.name, "erlang-docs");
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "lib/stdlib-4.2/doc/html/lists");
  EXPECT_EQ(c.docs[0].text,
            "lists\n\nModule Summary\n\nList processing functions.\n\nall(Pred, List) -> boolean()\n\n"
            "Returns true if Pred(Elem) returns true for all elements Elem in List, otherwise false.");
  // Without the rules, the left column and the copyright footer would stay.
  const std::string raw = detail::html_to_text(page(kLists), "x.html");
  EXPECT_NE(raw.find("Erlang/OTP 25.2.3"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Copyright"), std::string::npos) << raw;
}

TEST(ErlangDocsCorpus, DamagedPagesAndAMissingPackageAreNamed) {
  TempDir t;
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/lists.html", page(kLists));
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/maps.html", page(kLists).substr(0, 1200));
  CorpusPaths p;
  p.erlang_docs_dir = t.path();
  std::string e = error_of([&] { load_corpus("erlang-docs", p); });
  EXPECT_NE(e.find(t / "lib/stdlib-4.2/doc/html/maps.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  // A page of the template whose content element is gone is refused, not read whole.
  std::string no_content = page(kLists);
  no_content.replace(no_content.find("<div id=\"content\">"), 18, "<div id=\"main\">");
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/maps.html", no_content);
  e = error_of([&] { load_corpus("erlang-docs", p); });
  EXPECT_NE(e.find(t / "lib/stdlib-4.2/doc/html/maps.html"), std::string::npos) << e;
  EXPECT_NE(e.find("content"), std::string::npos) << e;
  write_file_atomic(t / "lib/stdlib-4.2/doc/html/maps.html", std::string("\x00\xff\x10<html></html>", 16));
  e = error_of([&] { load_corpus("erlang-docs", p); });
  EXPECT_NE(e.find(t / "lib/stdlib-4.2/doc/html/maps.html"), std::string::npos) << e;
  p.erlang_docs_dir = t / "nowhere";
  e = error_of([&] { load_corpus("erlang-docs", p); });
  EXPECT_NE(e.find("erlang-doc"), std::string::npos) << e;
}

// The package itself, where scripts/setup.sh --corpus erlang-docs installed it.
TEST(ErlangDocsCorpus, RealPagesWhereInstalled) {
  const CorpusPaths p;
  if (!is_directory(p.erlang_docs_dir))
    GTEST_SKIP() << "erlang-doc not installed; scripts/setup.sh --corpus erlang-docs installs it";
  const Corpus c = load_corpus("erlang-docs", p);
  EXPECT_GT(c.docs.size(), 800u);
  bool seen = false;
  for (const auto& d : c.docs) {
    EXPECT_EQ(d.text.find("All Rights Reserved"), std::string::npos) << d.id;
    if (d.id.find("/stdlib-") != std::string::npos && d.id.size() > 6 && d.id.compare(d.id.size() - 6, 6, "/lists") == 0) {
      seen = true;
      EXPECT_EQ(d.text.rfind("lists\n\nModule\n\nlists\n\nModule Summary\n\nList processing functions.", 0), 0u)
          << d.text.substr(0, 100);
    }
  }
  EXPECT_TRUE(seen);
}
