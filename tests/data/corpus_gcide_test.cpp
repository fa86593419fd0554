// GCIDE as a corpus: the dictd index and dictzip data, read from a small database made here from
// real GCIDE entries (GPL, dict-gcide 0.48), and the cleaning of its markup.
#include <gtest/gtest.h>

#include "core/io.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "data/dictd.h"
#include "dictd_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;
using structlm::test_util::b64;
using structlm::test_util::write_gzip;

namespace {

const char* const kAbyssal =
    "Abyssal \\A*byss\"al\\, a. [Cf. {Abysmal}.]\n"
    "   Belonging to, or resembling, an abyss; unfathomable.\n"
    "   [1913 Webster]\n"
    "\n"
    "   {Abyssal zone} (Phys. Geog.), one of the belts or zones into\n"
    "      which Sir E. Forbes divides the bottom of the sea in\n"
    "      describing its plants, animals, etc.\n"
    "      [1913 Webster]\n";
const char* const kAbandon =
    "Abandon \\A*ban\"don\\ ([.a]*b[a^]n\"d[u^]n), v. t. [imp. & p. p.\n"
    "   {Abandoned}; p. pr. & vb. n. {Abandoning}.]\n"
    "   1. To cast or drive out; to banish; to expel; to reject.\n"
    "      [Obs.]\n"
    "      [1913 Webster]\n";
const char* const kAc = "Ac \\Ac\\ n.\n   1. the chemical symbol for {actinum}, a radioactive element.\n\n   Syn: actinium\n        [WordNet 1.5]\n";

// A database of the entries above plus a 00-database one; `extra_index` is appended to the index.
CorpusPaths make_database(const TempDir& t, const std::string& extra_index = "") {
  const std::string meta = "00-database-short\n   The Collaborative International Dictionary of English\n";
  std::string dict, index;
  auto add = [&](const std::string& head, const std::string& text) {
    index += head + "\t" + b64(dict.size()) + "\t" + b64(text.size()) + "\n";
    dict += text;
  };
  add("00-database-short", meta);
  add("Abandon", kAbandon);
  add("Abyssal", kAbyssal);
  add("Ac", kAc);
  index += "AC\t" + b64(dict.size() - std::string(kAc).size()) + "\t" + b64(std::string(kAc).size()) + "\n";  // a second headword of one entry
  write_file_atomic(t / "gcide.index", index + extra_index);
  write_gzip(t / "gcide.dict.dz", dict);
  CorpusPaths p;
  p.dictd_dir = t.path();
  return p;
}

}  // namespace

TEST(GcideCorpus, DictdNumbersAreBase64) {
  EXPECT_EQ(detail::dictd_number("A", "x"), 0u);
  EXPECT_EQ(detail::dictd_number("5I", "x"), 57u * 64 + 8);
  EXPECT_EQ(detail::dictd_number(b64(13527370), "x"), 13527370u);
  EXPECT_NE(error_of([] { detail::dictd_number("a-b", "idx:3"); }).find("idx:3: bad dictd number 'a-b'"), std::string::npos);
}

TEST(GcideCorpus, MarkupIsRemovedAndParagraphsJoined) {
  EXPECT_EQ(detail::clean_gcide_entry(kAbyssal),
            "Abyssal, a. [Cf. Abysmal.] Belonging to, or resembling, an abyss; unfathomable.\n\n"
            "Abyssal zone (Phys. Geog.), one of the belts or zones into which Sir E. Forbes divides the bottom of "
            "the sea in describing its plants, animals, etc.");
  // The respelling after the pronunciation goes too. A bracketed tag alone on its line is dropped
  // (the rule is by shape: source citations, and the rare usage label such as "[Obs.]" there).
  EXPECT_EQ(detail::clean_gcide_entry(kAbandon),
            "Abandon, v. t. [imp. & p. p. Abandoned; p. pr. & vb. n. Abandoning.] 1. To cast or drive out; to "
            "banish; to expel; to reject.");
  EXPECT_EQ(detail::clean_gcide_entry(kAc), "Ac n. 1. the chemical symbol for actinum, a radioactive element.\n\nSyn: actinium");
}

TEST(GcideCorpus, AccentCodesBecomeLettersAndRunInPronunciationsGo) {
  // From the entries Aaronic and Abacus: a run-in form's pronunciation, a multiword one, accents.
  EXPECT_EQ(detail::clean_gcide_entry("Aaronic \\A*ron\"ic\\, a.\n   Also {Aaronical} \\Aa*ron\"ic*al\\, a.\n"),
            "Aaronic, a. Also Aaronical, a.");
  EXPECT_EQ(detail::clean_gcide_entry("air bed \\air bed\\ n.\n   a bed.\n"), "air bed n. a bed.");
  EXPECT_EQ(detail::clean_gcide_entry("Abacus \\Ab\"a*cus\\, n. [L. abacus, Gr. 'a`bax, 'a`bakos.] Also [=a]b, Ab[ae]lard, [R.]\n"),
            "Abacus, n. [L. abacus, Gr. 'a`bax, 'a`bakos.] Also a\xcc\x84" "b, Ab\xc3\xa6lard, [R.]");
  EXPECT_EQ(detail::clean_gcide_entry("x \\x\\ [e^] [^o] ['e] [,c] [~n] [.a] [`e]\n"),
            "x e\xcc\x86 o\xcc\x82 e\xcc\x81 c\xcc\xa7 n\xcc\x83 a\xcc\x87 e\xcc\x80");
}

TEST(GcideCorpus, ARespellingOnAContinuationLineGoesWithItsPronunciation) {
  // Aaronic, as GCIDE 0.48 has it: the second headword's pronunciation opens a wrapped line.
  EXPECT_EQ(detail::clean_gcide_entry("Aaronic \\Aa*ron\"ic\\ ([asl]*r[o^]n\"[i^]k), Aaronical\n"
                                      "\\Aa*ron\"ic*al\\ (-[i^]*kal), a.\n"
                                      "   Pertaining to Aaron, the first high priest of the Jews.\n"
                                      "   [1913 Webster]\n"),
            "Aaronic, Aaronical, a. Pertaining to Aaron, the first high priest of the Jews.");
  // A parenthesis without respelling marks is text, and stays.
  EXPECT_EQ(detail::clean_gcide_entry("Abyssal \\A*byss\"al\\ (Zo\xc3\xb6l.), a.\n"), "Abyssal (Zo\xc3\xb6l.), a.");
}

TEST(GcideCorpus, OneDocumentPerEntryWithoutTheDatabaseEntries) {
  TempDir t;
  const Corpus c = load_corpus("gcide", make_database(t));
  ASSERT_EQ(c.docs.size(), 3u);  // Ac and AC share one entry; 00-database-short is not a document
  EXPECT_EQ(c.name, "gcide");
  EXPECT_EQ(c.docs[0].id.substr(0, 8), "Abandon@");
  EXPECT_EQ(c.docs[1].text.substr(0, 8), "Abyssal,");
  EXPECT_EQ(c.docs[2].id.substr(0, 3), "Ac@");
}

TEST(GcideCorpus, BrokenDatabasesAreErrorsNamingTheFile) {
  TempDir t;
  auto p = make_database(t, "Zzz\tBAAAA\tBA\n");  // an entry past the end of the data
  std::string e = error_of([&] { load_corpus("gcide", p); });
  EXPECT_NE(e.find(t / "gcide.index"), std::string::npos) << e;
  EXPECT_NE(e.find("entry 'Zzz' ends at byte"), std::string::npos) << e;
  write_file_atomic(t / "gcide.index", "Abandon 5 6\n");
  e = error_of([&] { load_corpus("gcide", p); });
  EXPECT_NE(e.find(t / "gcide.index:1: expected 'headword<TAB>offset<TAB>length'"), std::string::npos) << e;
  make_database(t);
  const std::string gz = read_file(t / "gcide.dict.dz");
  write_file_atomic(t / "gcide.dict.dz", gz.substr(0, gz.size() / 2));  // truncated mid-stream
  e = error_of([&] { load_corpus("gcide", p); });
  EXPECT_NE(e.find(t / "gcide.dict.dz"), std::string::npos) << e;
  CorpusPaths none;
  none.dictd_dir = t / "nowhere";
  e = error_of([&] { load_corpus("gcide", none); });
  EXPECT_NE(e.find("dict-gcide"), std::string::npos) << e;
}
