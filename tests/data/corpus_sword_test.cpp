// The SWORD corpora (web, tdavid, mhcc, scofield): OSIS markup to text, the driver correction of
// a module's conf, and the readers run against a stand-in for diatheke that prints what the real
// one prints (lines cut from sword-text-web, sword-comm-mhcc and sword-comm-tdavid, all public
// domain). The real modules are checked too where installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/io.h"
#include "core/subprocess.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "data/osis_text.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;
namespace fs = std::filesystem;

namespace {

// Genesis 1:1 as the WEB module holds it: Strong's numbers in attributes, and a footnote glued
// between two words.
const char* const kGenesis1_1 =
    R"(<w savlm="strong:H0430">In</w> <w savlm="strong:H0853">the</w> <w savlm="strong:H7225">beginning</w>, )"
    R"(<w savlm="strong:H0430">God</w><note placement="foot" swordFootnote="1"></note><w savlm="strong:H1254">created</w> )"
    R"(<w savlm="strong:H0853">the</w> <w savlm="strong:H8064">heavens</w> <w>and</w> <w>the</w> <w>earth</w>.)";

}  // namespace

TEST(OsisText, WordsWithoutTagsStrongsNumbersOrFootnotes) {
  EXPECT_EQ(detail::osis_to_text(kGenesis1_1, false, "Gen 1:1"),
            "In the beginning, God created the heavens and the earth.");
  // A note before punctuation leaves no space; one after punctuation or before an opening quote,
  // one. A note may hold text: it goes with it.
  EXPECT_EQ(detail::osis_to_text(R"(<w>Yahweh</w><note type="x">LORD</note>, extra,<note/>composed,<note/>“Come!”)",
                                 false, "x"),
            "Yahweh, extra, composed, “Come!”");
  // Speakers (Song of Solomon) go; entities are decoded.
  EXPECT_EQ(detail::osis_to_text("rooms.<l eID=\"a\"/> <lg eID=\"b\"/> <speaker>Friends</speaker> <lg sID=\"c\"/>"
                                 "<l sID=\"d\"/>We &amp; you &#8212; &lt;all&gt;",
                                 false, "x"),
            "rooms. We & you \xe2\x80\x94 <all>");
}

TEST(OsisText, ParagraphsLinesAndCellsWhenAsked) {
  const std::string m =
      R"(<div sID="g1" type="x-p"/><title type="x-s2">Chapter 1</title> <table> <row><cell>God creates heaven.</cell>)"
      R"(<cell>(1-2)</cell></row> <row><cell>Light.</cell><cell>(3-5)</cell></row> </table> <div sID="g2" type="x-p"/>)"
      R"(<hi type="bold">Verses 1-2</hi> <div eID="g2" type="x-p"/> The first   verse, <reference osisRef="1John.5.20">)"
      R"(1Jo 5:20</reference>.<lb/>Next line.)";
  EXPECT_EQ(detail::osis_to_text(m, true, "x"),
            "Chapter 1\n\nGod creates heaven. (1-2)\nLight. (3-5)\n\nVerses 1-2\n\nThe first verse, 1Jo 5:20.\nNext line.");
  EXPECT_EQ(detail::osis_to_text(m, false, "x"),
            "Chapter 1 God creates heaven. (1-2) Light. (3-5) Verses 1-2 The first verse, 1Jo 5:20. Next line.");
}

TEST(OsisText, MarkupCutShortIsAnErrorNamingTheEntry) {
  const std::string m(kGenesis1_1);
  EXPECT_NE(error_of([&] { detail::osis_to_text(m.substr(0, 40), false, "diatheke -b X, Genesis 1:1"); })
                .find("diatheke -b X, Genesis 1:1: OSIS markup cut short"),
            std::string::npos);
  EXPECT_NE(error_of([&] { detail::osis_to_text("a <note>b", false, "Gen 1:2"); }).find("<note> is not closed"),
            std::string::npos);
}

// sword-comm-mhcc names the zCom4 driver for zCom's files; diatheke then files entries under the
// wrong verses. The conf diatheke reads names the driver the files need.
TEST(SwordConf, DriverCorrectedOnlyWhereItDoesNotMatchTheFiles) {
  TempDir t;
  fs::create_directories(t / "modules/comments/zcom/mhcc");
  fs::create_directories(t / "modules/comments/zcom/tdavid");
  write_file_atomic(t / "modules/comments/zcom/mhcc/ot.bzv", "x");
  write_file_atomic(t / "modules/comments/zcom/tdavid/ot.czv", "x");
  const std::string mhcc = "[MHCC]\r\nDataPath=./modules/comments/zcom/mhcc/\r\nModDrv=zCom4\r\nAbout=ModDrv=zCom4\r\n";
  EXPECT_EQ(detail::sword_conf_for(mhcc, t.path()),
            "[MHCC]\r\nDataPath=./modules/comments/zcom/mhcc/\r\nModDrv=zCom\r\nAbout=ModDrv=zCom4\r\n");
  const std::string tdavid = "[TDavid]\nDataPath=./modules/comments/zcom/tdavid/\nModDrv=zCom4\n";
  EXPECT_EQ(detail::sword_conf_for(tdavid, t.path()), tdavid);
  const std::string text4 = "[X]\nModDrv=zText4\nDataPath=./modules/comments/zcom/mhcc/\n";
  EXPECT_EQ(detail::sword_conf_for(text4, t.path()), "[X]\nModDrv=zText\nDataPath=./modules/comments/zcom/mhcc/\n");
  const std::string raw = "[Y]\nDataPath=./modules/comments/zcom/mhcc/\nModDrv=RawCom\n";
  EXPECT_EQ(detail::sword_conf_for(raw, t.path()), raw);
}

namespace {

// A SWORD folder with the four confs (MHCC's with its wrong driver) and a stand-in diatheke that
// checks its arguments and the private library it is given, keeps the conf it saw, and prints
// T/<module>.txt (nothing when there is none; exit 5 when T/<module>.fail exists).
struct FakeSword {
  TempDir t;
  CorpusPaths paths;
  FakeSword() {
    for (const char* d : {"sword/mods.d", "sword/modules/comments/zcom/mhcc", "sword/modules/comments/zcom/tdavid"})
      fs::create_directories(t / d);
    write_file_atomic(t / "sword/modules/comments/zcom/mhcc/ot.bzv", "x");
    write_file_atomic(t / "sword/modules/comments/zcom/tdavid/ot.czv", "x");
    write_file_atomic(t / "sword/mods.d/engWEB2015eb.conf", "[engWEB2015eb]\nDataPath=./modules/texts/ztext/web/\nModDrv=zText\n");
    write_file_atomic(t / "sword/mods.d/mhcc.conf", "[MHCC]\nDataPath=./modules/comments/zcom/mhcc/\nModDrv=zCom4\n");
    write_file_atomic(t / "sword/mods.d/tdavid.conf", "[TDavid]\nDataPath=./modules/comments/zcom/tdavid/\nModDrv=zCom4\n");
    write_file_atomic(t / "sword/mods.d/scofield.conf", "[Scofield]\nDataPath=./modules/comments/zcom/scofield/\nModDrv=zCom\n");
    const std::string T = t.path();
    write_file_atomic(t / "diatheke",
                      "#!/bin/sh\n"
                      "[ \"$1 $3 $4 $9\" = \"-b -f internal -k\" ] || { echo \"unexpected arguments: $*\" >&2; exit 2; }\n"
                      "[ -d \"$SWORD_PATH/mods.d\" ] && [ -d \"$SWORD_PATH/modules/comments\" ] || "
                      "{ echo \"no private library\" >&2; exit 2; }\n"
                      "cat \"$SWORD_PATH\"/mods.d/*.conf > '" + T + "'/seen-$2.conf\n"
                      "[ -e '" + T + "'/$2.fail ] && { echo \"diatheke: broken module\" >&2; exit 5; }\n"
                      "[ -e '" + T + "'/$2.txt ] && cat '" + T + "'/$2.txt\n"
                      "exit 0\n");
    fs::permissions(t / "diatheke", fs::perms::owner_all);
    paths.sword_dir = t / "sword";
    paths.diatheke_tool = t / "diatheke";
  }
  void prints(const std::string& module, const std::string& out) { write_file_atomic(t / (module + ".txt"), out); }
};

}  // namespace

TEST(SwordCorpus, WebOneDocumentPerChapterOneVerseALine) {
  FakeSword s;
  s.prints("engWEB2015eb",
           std::string("Genesis 1:1: ") + kGenesis1_1 + "\n" +
               "Genesis 1:2: The earth was formless and empty. <div eID=\"gen25\" type=\"x-p\"/>\n"
               "<title canonical=\"true\" type=\"psalm\">A Psalm by David, when he fled from Absalom his son.</title> "
               "<lg sID=\"gen7860\"/> <l level=\"1\" sID=\"gen7861\"/>Psalms 3:1: Yahweh, how <w savlm=\"strong:H1732\">my"
               "</w> adversaries have increased!<l eID=\"gen7861\" level=\"1\"/> <l level=\"2\" sID=\"gen7862\"/>Many are "
               "those who rise up against me. <l eID=\"gen7862\" level=\"2\"/>\n"
               "<l level=\"1\" sID=\"gen7863\"/>Psalms 3:2: Many there are who say of my soul,<l eID=\"gen7863\"/>\n"
               "Matthew 17:21: \n"
               "[ Testament 2 Heading ]: <milestone type=\"x-importer\" n=\"$Rev: 3769 $\"/>\n"
               "Revelation of John 22:21: The grace of the Lord Jesus Christ be with all the saints. Amen.  "
               "<chapter eID=\"Rev.22\"/> <div sID=\"gen35837\" type=\"glossary\"/> <title level=\"1\" type=\"main\">World "
               "English Bible Glossary</title> <list> <item><seg type=\"keyword\">Abaddon</seg> Abaddon is Hebrew.</item>\n"
               "(engWEB2015eb)\n");
  const Corpus c = load_corpus("web", s.paths);
  EXPECT_EQ(c.name, "web");
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.docs[0].id, "Genesis 1");
  EXPECT_EQ(c.docs[0].text, "In the beginning, God created the heavens and the earth.\nThe earth was formless and empty.");
  EXPECT_EQ(c.docs[1].id, "Psalms 3");
  EXPECT_EQ(c.docs[1].text,
            "A Psalm by David, when he fled from Absalom his son.\n"
            "Yahweh, how my adversaries have increased! Many are those who rise up against me.\n"
            "Many there are who say of my soul,");
  EXPECT_EQ(c.docs[2].id, "Revelation of John 22");
  EXPECT_EQ(c.docs[2].text, "The grace of the Lord Jesus Christ be with all the saints. Amen.");  // no glossary
  EXPECT_NE(read_file(s.t / "seen-engWEB2015eb.conf").find("ModDrv=zText\n"), std::string::npos);
}

TEST(SwordCorpus, MhccOneDocumentPerChapterLinkedEntriesOnceDriverCorrected) {
  FakeSword s;
  const std::string verses_1_2 =
      "<div type=\"x-milestone\" subType=\"x-preverse\" sID=\"pv1\"/><div sID=\"g\" type=\"x-p\"/><hi type=\"bold\">"
      "Verses 1-2</hi> <div eID=\"g\" type=\"x-p\"/> The first verse of the Bible gives us a satisfying account, "
      "<reference osisRef=\"1John.5.20\">1Jo 5:20</reference>. <div eID=\"h\" type=\"x-p\"/>";
  s.prints("MHCC",
           "Genesis 0:0: <div canonical=\"true\" osisID=\"Gen\" sID=\"gen2\" type=\"book\"/> <milestone n=\"Genesis\" "
           "type=\"x-usfm-toc1\"/>\n"
           "Genesis 1:0: <chapter n=\"1\" osisID=\"Gen.1\" sID=\"Gen.1\"/> <title type=\"x-ms\">Genesis</title> <div "
           "sID=\"gen4\" type=\"x-p\"/> Genesis is a name taken from the Greek. <div eID=\"gen4\" type=\"x-p\"/> <title "
           "type=\"x-s2\">Chapter 1</title> <table> <row><cell>God creates heaven and earth.</cell><cell>(1-2)</cell>"
           "</row> </table>\n"
           "Genesis 1:1: " + verses_1_2 + "\n" +
           "Genesis 1:2: " + verses_1_2 + "\n" +
           "Genesis 1:3: <hi type=\"bold\">Verses 3-5</hi> <div sID=\"i\" type=\"x-p\"/> God said, Let there be light "
           "&amp; there was light.\n"
           "Genesis 2:1: \n"
           "[ Testament 2 Heading ]: <milestone type=\"x-importer\" n=\"$Rev: 3769 $\"/>\n"
           "Philemon 0:0: Philemon\n"
           "Philemon 1:0: Philemon was an inhabitant of Colosse.\n"
           "(MHCC)\n");
  const Corpus c = load_corpus("mhcc", s.paths);
  EXPECT_EQ(c.name, "mhcc");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "Genesis 1");
  EXPECT_EQ(c.docs[0].text,
            "Genesis\n\nGenesis is a name taken from the Greek.\n\nChapter 1\n\nGod creates heaven and earth. (1-2)\n\n"
            "Verses 1-2\n\nThe first verse of the Bible gives us a satisfying account, 1Jo 5:20.\n\n"
            "Verses 3-5\n\nGod said, Let there be light & there was light.");
  EXPECT_EQ(c.docs[1].id, "Philemon 1");
  EXPECT_EQ(c.docs[1].text, "Philemon\n\nPhilemon was an inhabitant of Colosse.");
  // diatheke was given the conf with the driver the module's files need, not the package's.
  const std::string seen = read_file(s.t / "seen-MHCC.conf");
  EXPECT_NE(seen.find("ModDrv=zCom\n"), std::string::npos) << seen;
  EXPECT_EQ(read_file(s.t / "sword/mods.d/mhcc.conf").find("ModDrv=zCom\n"), std::string::npos);  // untouched
}

TEST(SwordCorpus, TreasuryOfDavidOneDocumentPerSectionOfAPsalm) {
  FakeSword s;
  s.prints("TDavid",
           "Psalms 0:0: <title type=\"x-s\">Preface</title> <div sID=\"a\" type=\"x-p\"/> My Preface shall at least "
           "possess the virtue of brevity. <div eID=\"a\" type=\"x-p\"/>\n"
           "Psalms 1:0: <chapter n=\"1\" osisID=\"Ps.1\" sID=\"Ps.1\"/>\n"
           "Psalms 1:1: <div type=\"x-milestone\" subType=\"x-preverse\" sID=\"pv1\"/><title type=\"x-s\">Psalm 1 "
           "OVERVIEW</title> <div sID=\"b\" type=\"x-p\"/><div eID=\"b\" type=\"x-p\"/><title type=\"x-s\">TITLE.</title> "
           "<div sID=\"c\" type=\"x-p\"/> This Psalm may be regarded as THE PREFACE PSALM. <div eID=\"c\"/> <title "
           "type=\"x-s\">EXPOSITION</title> <div sID=\"d\" type=\"x-p\"/>Verse 1. <hi type=\"italic\">\"BLESSED\"</hi> "
           "—see how this Book of Psalms opens with a benediction! <div eID=\"d\" type=\"x-p\"/>\n"
           "Psalms 1:2: \n"
           "Psalms 2:1: <title type=\"x-s\">Psalm 2 OVERVIEW</title> <div sID=\"e\" type=\"x-p\"/>We need not the aid "
           "of the apostles to point out to us the subject of this Psalm.\n"
           "(TDavid)\n");
  const Corpus c = load_corpus("tdavid", s.paths);
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].id, "Psalms 1#0");
  EXPECT_EQ(c.docs[0].text, "Preface\n\nMy Preface shall at least possess the virtue of brevity.");
  EXPECT_EQ(c.docs[1].id, "Psalms 1#1");  // the overview heading goes with the next section
  EXPECT_EQ(c.docs[1].text, "Psalm 1 OVERVIEW\n\nTITLE.\n\nThis Psalm may be regarded as THE PREFACE PSALM.");
  EXPECT_EQ(c.docs[2].id, "Psalms 1#2");
  EXPECT_EQ(c.docs[2].text, "EXPOSITION\n\nVerse 1. \"BLESSED\" —see how this Book of Psalms opens with a benediction!");
  EXPECT_EQ(c.docs[3].id, "Psalms 2#0");
  EXPECT_EQ(c.docs[3].text, "Psalm 2 OVERVIEW\n\nWe need not the aid of the apostles to point out to us the subject of this Psalm.");
  EXPECT_NE(read_file(s.t / "seen-TDavid.conf").find("ModDrv=zCom4\n"), std::string::npos);  // its files are zCom4's
}

TEST(SwordCorpus, MissingOrBrokenModulesAreErrorsNamingThePackage) {
  FakeSword s;
  // Nothing printed: the module is unknown to diatheke.
  std::string e = error_of([&] { load_corpus("scofield", s.paths); });
  EXPECT_NE(e.find("diatheke -b Scofield: printed no entries"), std::string::npos) << e;
  EXPECT_NE(e.find("sword-comm-scofield"), std::string::npos) << e;
  // diatheke fails: its own words are in the message.
  write_file_atomic(s.t / "Scofield.fail", "");
  e = error_of([&] { load_corpus("scofield", s.paths); });
  EXPECT_NE(e.find("failed (exit 5: diatheke: broken module)"), std::string::npos) << e;
  // Output that is not diatheke's.
  s.prints("MHCC", "no key here\n");
  e = error_of([&] { load_corpus("mhcc", s.paths); });
  EXPECT_NE(e.find("unexpected output at line 1: no key here"), std::string::npos) << e;
  // A module not installed: its conf is named, and the package.
  fs::remove(s.t / "sword/mods.d/tdavid.conf");
  e = error_of([&] { load_corpus("tdavid", s.paths); });
  EXPECT_NE(e.find(s.t / "sword/mods.d/tdavid.conf"), std::string::npos) << e;
  EXPECT_NE(e.find("sword-comm-tdavid"), std::string::npos) << e;
  // No diatheke.
  s.paths.diatheke_tool = "/nonexistent/diatheke";
  e = error_of([&] { load_corpus("web", s.paths); });
  EXPECT_NE(e.find("/nonexistent/diatheke"), std::string::npos) << e;
  EXPECT_NE(e.find("install the Debian packages diatheke and sword-text-web"), std::string::npos) << e;
}

// The private library (a temporary folder) is removed whether the read succeeds or fails.
TEST(SwordCorpus, NoTemporaryLibraryLeftBehind) {
  FakeSword s;
  fs::create_directories(s.t / "tmp");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", (s.t / "tmp").c_str(), 1);
  s.prints("Scofield", "John 3:3: born again\n(Scofield)\n");
  EXPECT_EQ(load_corpus("scofield", s.paths).docs.at(0).text, "born again");
  EXPECT_NE(read_file(s.t / "seen-Scofield.conf").find("[Scofield]"), std::string::npos);
  error_of([&] { load_corpus("mhcc", s.paths); });  // prints nothing
  if (old) ::setenv("TMPDIR", saved.c_str(), 1);
  else ::unsetenv("TMPDIR");
  EXPECT_TRUE(fs::is_empty(s.t / "tmp"));
}

// The modules themselves, where scripts/setup.sh --corpus NAME installed them.
TEST(SwordCorpus, RealModulesWhereInstalled) {
  const CorpusPaths p;
  auto installed = [&](const char* conf) {
    return program_available(p.diatheke_tool) && file_exists(p.sword_dir + "/mods.d/" + conf);
  };
  std::vector<std::string> missing;
  if (installed("engWEB2015eb.conf")) {
    const Corpus c = load_corpus("web", p);
    EXPECT_EQ(c.docs.size(), 1388u);  // 1,189 chapters and the deuterocanon's 199
    EXPECT_EQ(c.docs[0].text.rfind("In the beginning, God created the heavens and the earth.\nThe earth was", 0), 0u);
    for (const auto& d : c.docs) {
      if (d.id == "Psalms 3") {
        EXPECT_EQ(d.text.rfind("A Psalm by David, when he fled from Absalom his son.\nYahweh, how my adversaries", 0), 0u);
      }
    }
    EXPECT_EQ(c.docs.back().text.find("Glossary"), std::string::npos);
  } else {
    missing.push_back("web");
  }
  if (installed("mhcc.conf")) {
    // Read with the package's own conf, Psalm 23 would hold the commentary on Proverbs 22.
    const Corpus c = load_corpus("mhcc", p);
    bool seen = false;
    for (const auto& d : c.docs)
      if (d.id == "Psalms 23") {
        seen = true;
        EXPECT_NE(d.text.find("\"The Lord is my shepherd.\""), std::string::npos) << d.text.substr(0, 300);
      }
    EXPECT_TRUE(seen);
  } else {
    missing.push_back("mhcc");
  }
  if (installed("tdavid.conf")) {
    const Corpus c = load_corpus("tdavid", p);
    EXPECT_GT(c.docs.size(), 1000u);
    EXPECT_EQ(c.docs[0].text.rfind("Preface\n\nMy Preface shall at least possess the virtue of brevity", 0), 0u);
  } else {
    missing.push_back("tdavid");
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    GTEST_SKIP() << "SWORD modules not installed: " << list << "; scripts/setup.sh --corpus NAME installs one";
  }
}
