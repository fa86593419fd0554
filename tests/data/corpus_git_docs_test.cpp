// Git's documentation (git-docs): asciidoc pages in the shape git-doc ships them (cut from
// git-rebase.html and howto/revert-branch-rebase.html, GPL-2): title and NAME kept, synopsis and
// code blocks, footer and the "Part of the git(1) suite" section dropped; links not followed.
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

namespace fs = std::filesystem;

namespace {

std::string page(const std::string& body_class, const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\"\n"
         "    \"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" "
         "xml:lang=\"en\">\n<head>\n<meta http-equiv=\"Content-Type\" content=\"application/xhtml+xml; charset=UTF-8\" />\n"
         "<meta name=\"generator\" content=\"AsciiDoc 10.2.0\" />\n<title>git-rebase(1)</title>\n"
         "<style type=\"text/css\">body { margin: 1em }</style>\n<script type=\"text/javascript\">var asciidoc = {};</script>\n"
         "</head>\n<body class=\"" + body_class + "\">\n" + body +
         "\n<div id=\"footnotes\"><hr /></div>\n<div id=\"footer\">\n<div id=\"footer-text\">\nLast updated\n"
         " 2024-05-31 00:35:55 UTC\n</div>\n</div>\n</body>\n</html>\n";
}

const char* const kRebase = R"(<div id="header">
<h1>
git-rebase(1) Manual Page
</h1>
<h2>NAME</h2>
<div class="sectionbody">
<p>git-rebase -
   Reapply commits on top of another base tip
</p>
</div>
</div>
<div id="content">
<div class="sect1">
<h2 id="_synopsis">SYNOPSIS</h2>
<div class="sectionbody">
<div class="verseblock">
<pre class="content"><em>git rebase</em> [-i | --interactive] [&lt;options&gt;] [--exec &lt;cmd&gt;]</pre>
<div class="attribution">
</div></div>
</div>
</div>
<div class="sect1">
<h2 id="_description">DESCRIPTION</h2>
<div class="sectionbody">
<div class="paragraph"><p>If <code>&lt;branch&gt;</code> is specified, <code>git rebase</code> will perform an automatic
<code>git switch &lt;branch&gt;</code> before doing anything else.</p></div>
<div class="listingblock">
<div class="content">
<pre><code>          A---B---C topic
         /
    D---E---F---G master</code></pre>
</div></div>
</div>
</div>
<div class="sect1">
<h2 id="_git">GIT</h2>
<div class="sectionbody">
<div class="paragraph"><p>Part of the <a href="git.html">git(1)</a> suite</p></div>
</div>
</div>
</div>)";

const char* const kHowto = R"(<div id="header">
<h1>How to revert an existing commit</h1>
</div>
<div id="content">
<div id="preamble">
<div class="sectionbody">
<div class="paragraph"><p>First, prepare a throw-away branch in case I screw things up.</p></div>
<div class="listingblock">
<div class="content">
<pre><code>$ git checkout -b revert-c99 master</code></pre>
</div></div>
</div>
</div>
</div>)";

}  // namespace

TEST(GitDocsCorpus, PagesWithoutSynopsisCodeFooterOrSuiteLine) {
  TempDir t;
  write_file_atomic(t / "git-rebase.html", page("manpage", kRebase));
  write_file_atomic(t / "git-rebase.txt", "git-rebase(1)\n=============\n");
  write_file_atomic(t / "howto/revert-branch-rebase.html", page("article", kHowto));
  fs::create_symlink("git-rebase.html", t / "index.html");
  CorpusPaths p;
  p.git_docs_dir = t.path();
  const Corpus c = load_corpus("git-docs", p);
  EXPECT_EQ(c.name, "git-docs");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "git-rebase");
  EXPECT_EQ(c.docs[0].text,
            "git-rebase(1) Manual Page\n\nNAME\n\ngit-rebase - Reapply commits on top of another base tip\n\n"
            "SYNOPSIS\n\nDESCRIPTION\n\n"
            "If <branch> is specified, git rebase will perform an automatic git switch <branch> before doing anything "
            "else.");
  EXPECT_EQ(c.docs[1].id, "howto/revert-branch-rebase");
  EXPECT_EQ(c.docs[1].text,
            "How to revert an existing commit\n\nFirst, prepare a throw-away branch in case I screw things up.");
  // Without the rules, the footer would stay.
  EXPECT_NE(detail::html_to_text(page("article", kHowto), "x.html").find("Last updated"), std::string::npos);
}

TEST(GitDocsCorpus, DamagedPagesAndAMissingPackageAreNamed) {
  TempDir t;
  write_file_atomic(t / "git-rebase.html", page("manpage", kRebase));
  write_file_atomic(t / "technical/broken.html", page("article", kHowto).substr(0, 800));
  CorpusPaths p;
  p.git_docs_dir = t.path();
  std::string e = error_of([&] { load_corpus("git-docs", p); });
  EXPECT_NE(e.find(t / "technical/broken.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  write_file_atomic(t / "technical/broken.html", std::string("\x00\xff\x10<html></html>", 16));
  e = error_of([&] { load_corpus("git-docs", p); });
  EXPECT_NE(e.find(t / "technical/broken.html"), std::string::npos) << e;
  p.git_docs_dir = t / "nowhere";
  e = error_of([&] { load_corpus("git-docs", p); });
  EXPECT_NE(e.find("git-doc"), std::string::npos) << e;
}

// The package itself, where scripts/setup.sh --corpus git-docs installed it.
TEST(GitDocsCorpus, RealPagesWhereInstalled) {
  const CorpusPaths p;
  if (!is_directory(p.git_docs_dir)) GTEST_SKIP() << "git-doc not installed; scripts/setup.sh --corpus git-docs installs it";
  const Corpus c = load_corpus("git-docs", p);
  EXPECT_GT(c.docs.size(), 200u);
  bool seen = false;
  for (const auto& d : c.docs) {
    EXPECT_EQ(d.text.find("Last updated"), std::string::npos) << d.id;
    EXPECT_EQ(d.text.find("Part of the git(1) suite"), std::string::npos) << d.id;
    EXPECT_NE(d.id, "index");
    if (d.id == "git-rebase") {
      seen = true;
      EXPECT_EQ(d.text.rfind("git-rebase(1) Manual Page\n\nNAME\n\ngit-rebase - Reapply commits on top of another base tip", 0), 0u)
          << d.text.substr(0, 100);
    }
  }
  EXPECT_TRUE(seen);
}
