// The LibreOffice help (libreoffice-help): pages in the shape libreoffice-help-en-us ships them
// (cut from text/shared/guide/autocorr_url.html and text/sbasic/shared/01000000.html, MPL-2.0):
// the content area only, the default of each system or application variant, no code, no
// Related Topics.
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

const char* const kHead = R"(<!DOCTYPE html>
<html lang="en-US" dir="ltr">
<head>
<base href="../../../../">
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Turning off Automatic URL Recognition</title>
<script type="text/javascript" src="help.js" defer></script>
</head>
<body>
<header id="TopLeftHeader"><a class="logo" href="en-US/text/shared/05/new_help.html"><p dir="auto">LibreOffice 7.4 Help</p></a><div class="dropdowns"><div class="modules">
<button type="button" id="modules">Module</button><nav id="modules-nav"></nav></div></div></header><aside class="rightside"><input id="accordion-1" name="accordion-menu" type="checkbox"><label for="accordion-1" dir="auto">Contents</label><div id="Contents" class="contents-treeview"></div></aside><aside class="leftside"><div id="Index">
<div class="index-label" dir="auto">Index</div>
</div></aside><div id="DisplayArea" itemprop="softwareHelp" itemscope="true">
)";

const char* const kFoot = R"(</div>
<div id="SearchFrame"></div>
<div id="DonationFrame"></div>
<footer><div id="DEBUG" class="debug">
<h3 class="bug">Help content debug info:</h3>
<p dir="auto">Title is: Turning off Automatic URL Recognition</p>
</div></footer>
</body>
</html>
)";

std::string page(const std::string& body) { return kHead + body + kFoot; }

const char* const kAutocorrUrl = R"(<a name="bm_id3149346"></a><meta itemprop="keywords" content="AutoCorrect function, URL recognition">
<h1 id="hd_id3149346" dir="auto">
<a name="autocorr_url"></a>Turning off Automatic URL Recognition
</h1>
      <p id="par_id3166410" class="paragraph" dir="auto">When you enter text, LibreOffice automatically recognizes a word that may be a <a target="_top" href="en-US/text/shared/00/00000002.html#url">URL</a> and replaces the word with a hyperlink.</p>
<table border="1" class="" cellpadding="0" cellspacing="0">
  <tr><td dir="auto"><p class="tablecontentintable" dir="auto">Email addresses</p></td>
  <td dir="auto"><p class="tablecontentintable" dir="auto"><span class="literal">x@x</span>, <span class="literal">mailto:x</span></p></td></tr>
</table>
      <h2 id="hd_id3154306" dir="auto">Undo URL Recognition</h2>
      <ol dir="auto"><li dir="auto">
            <p id="par_id3149233" class="listitem" dir="auto">When you are typing and notice that a text has just been automatically converted into a hyperlink, press <span id="swlnsys_1" class="switchinline"><span hidden="true" id="MACtextsharedguideautocorr_urlxml_1" class="MAC">Command
</span><span hidden="true" id="defaulttextsharedguideautocorr_urlxml_1">Ctrl</span></span>+Z to undo this formatting.</p></li></ol>
<p id="par_id3145609" class="paragraph" dir="auto">For further information see <span id="swlnappl_1" class="switchinline"><span hidden="true" id="WRITER_1" class="WRITER"><a target="_top" href="en-US/text/swriter/01/05090201.html">Editing Tables Using the Keyboard</a>
</span><span hidden="true" id="default_1"> in the LibreOffice Writer Help</span></span>.</p>
<a name="howtoget"></a><div class="howtoget">
<div><p class="howtogetheader" dir="auto"><a name="wie"></a>To access this command...
</p></div>
<div class="howtogetbody"><div class="embedded"><p class="embedded" dir="auto">Choose <span class="switchinline"><span hidden="true" class="MAC"><span class="emph">LibreOffice - Preferences</span></span><span hidden="true"><span class="emph">Tools - Options</span></span></span><span class="emph"> - Load/Save - General</span>.</p></div></div>
</div>
      <a name="relatedtopics"></a><div class="relatedtopics">
<p class="related" itemprop="mentions" dir="auto"><a name="related"></a><span class="emph">Related Topics</span>
</p>
<div class="relatedbody" itemprop="mentions">
         <div class="embedded"><p class="embedded" dir="auto"><a target="_top" href="en-US/text/swriter/guide/auto_off.html">Turning Off AutoCorrect</a>
</p></div>
      </div>
</div>
)";

const char* const kBasicIde = R"(<h1 id="hd_id1" dir="auto">Basic IDE</h1>
<p id="par_id2" class="paragraph" dir="auto">If you declare</p>
  <div class="bascode" itemscope="true" itemprop="codeSampleType" content="snippet"><pre dir="auto"><code class="language-visual-basic line-numbers">
    Dim aPicker As com.sun.star.ui.dialogs.XFilePicker
  </code></pre></div>
<p id="par_id3" class="paragraph" dir="auto">then its methods can be accessed via the dot (".") operator. The query reads</p>
<p id="par_id4" class="code" dir="auto">SELECT field1, field2 FROM table,</p>
<p id="par_id5" class="smathcode" dir="auto">a over b</p>
)";

}  // namespace

TEST(LibreofficeHelpCorpus, ContentAreaWithDefaultVariantsWithoutCodeOrRelatedTopics) {
  TempDir t;
  write_file_atomic(t / "text/shared/guide/autocorr_url.html", page(kAutocorrUrl));
  write_file_atomic(t / "text/sbasic/shared/01000000.html", page(kBasicIde));
  write_file_atomic(t / "text/shared/00/empty.html", page(""));
  write_file_atomic(t / "noscript.html", "<html><body><p>Please enable JavaScript.</p></body></html>");
  write_file_atomic(t / "text/shared/guide/help.js", "var x;");
  CorpusPaths p;
  p.libreoffice_help_dir = t.path();
  const Corpus c = load_corpus("libreoffice-help", p);
  EXPECT_EQ(c.name, "libreoffice-help");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "sbasic/shared/01000000");
  EXPECT_EQ(c.docs[0].text,
            "Basic IDE\n\nIf you declare\n\nthen its methods can be accessed via the dot (\".\") operator. The query "
            "reads");
  EXPECT_EQ(c.docs[1].id, "shared/guide/autocorr_url");
  EXPECT_EQ(c.docs[1].text,
            "Turning off Automatic URL Recognition\n\n"
            "When you enter text, LibreOffice automatically recognizes a word that may be a URL and replaces the word "
            "with a hyperlink.\n\n"
            "Email addresses\n\nx@x, mailto:x\n\n"
            "Undo URL Recognition\n\n"
            "When you are typing and notice that a text has just been automatically converted into a hyperlink, press "
            "Ctrl+Z to undo this formatting.\n\n"
            "For further information see in the LibreOffice Writer Help.\n\n"
            "To access this command...\n\n"
            "Choose Tools - Options - Load/Save - General.");

  // Without the rules, every variant, the side panels and the debug footer's neighbours would stay.
  const std::string raw = detail::html_to_text(page(kAutocorrUrl), "x.html");
  EXPECT_NE(raw.find("Command Ctrl"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Related Topics"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Index"), std::string::npos) << raw;
}

TEST(LibreofficeHelpCorpus, DamagedPagesAndAMissingPackageAreNamed) {
  TempDir t;
  write_file_atomic(t / "text/shared/guide/autocorr_url.html", page(kAutocorrUrl));
  write_file_atomic(t / "text/shared/guide/broken.html", page(kAutocorrUrl).substr(0, 1500));
  CorpusPaths p;
  p.libreoffice_help_dir = t.path();
  std::string e = error_of([&] { load_corpus("libreoffice-help", p); });
  EXPECT_NE(e.find(t / "text/shared/guide/broken.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  // A page in another theme (no content area) is refused rather than read whole.
  write_file_atomic(t / "text/shared/guide/broken.html", "<html><body><p>Contents</p></body></html>\n");
  e = error_of([&] { load_corpus("libreoffice-help", p); });
  EXPECT_NE(e.find(t / "text/shared/guide/broken.html"), std::string::npos) << e;
  EXPECT_NE(e.find("DisplayArea"), std::string::npos) << e;
  write_file_atomic(t / "text/shared/guide/broken.html", std::string("\x00\xff\x10<html></html>", 16));
  e = error_of([&] { load_corpus("libreoffice-help", p); });
  EXPECT_NE(e.find(t / "text/shared/guide/broken.html"), std::string::npos) << e;
  p.libreoffice_help_dir = t / "nowhere";
  e = error_of([&] { load_corpus("libreoffice-help", p); });
  EXPECT_NE(e.find("libreoffice-help-en-us"), std::string::npos) << e;
}

// The package itself, where scripts/setup.sh --corpus libreoffice-help installed it.
TEST(LibreofficeHelpCorpus, RealPagesWhereInstalled) {
  const CorpusPaths p;
  if (!is_directory(p.libreoffice_help_dir + "/text"))
    GTEST_SKIP() << "libreoffice-help-en-us not installed; scripts/setup.sh --corpus libreoffice-help installs it";
  const Corpus c = load_corpus("libreoffice-help", p);
  EXPECT_GT(c.docs.size(), 2000u);
  bool seen = false;
  for (const auto& d : c.docs) {
    EXPECT_EQ(d.text.find("Help content debug info"), std::string::npos) << d.id;
    EXPECT_EQ(d.text.find("Related Topics"), std::string::npos) << d.id;
    if (d.id == "shared/guide/autocorr_url") {
      seen = true;
      EXPECT_EQ(d.text.rfind("Turning off Automatic URL Recognition\n\nWhen you enter text, LibreOffice", 0), 0u)
          << d.text.substr(0, 100);
      EXPECT_NE(d.text.find("press Ctrl+Z to undo"), std::string::npos);
    }
  }
  EXPECT_TRUE(seen);
}
