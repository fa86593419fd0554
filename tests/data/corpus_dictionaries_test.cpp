// FOLDOC, the Jargon File, The Devil's Dictionary and the fortunes as corpora: the cleaning of
// real entries (FOLDOC: redistribution with attribution; Jargon File and Bierce: public domain;
// fortunes: BSD), databases and fortune files made here from them, and damaged inputs.
#include <gtest/gtest.h>

#include "core/io.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "dictd_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// dict-jargon 4.4.7, "ad-hockery", as stored (markup: pronunciation, source tag, braces across a
// line break, a pronunciation in parentheses).
const char* const kAdHockery =
    "ad-hockery\n /ad\xc2\xb7hok'@r\xc2\xb7""ee/, n.\n\n    [Purdue]\n\n"
    "    1. Gratuitous assumptions made inside certain programs, esp. expert\n"
    "    systems, which lead to the appearance of semi-intelligent behavior but are\n"
    "    in fact entirely arbitrary.\n\n"
    "    Also called ad-hackery, ad-hocity (/ad-hos'@-tee/), ad-crockery. See also {\n    ELIZA effect}.\n\n";
// dict-foldoc 20230119, "Actors": subject tag, cross references, a URL, citations, date stamp.
const char* const kActors =
    "Actors\n\n   <theory> A model for {concurrency} by {Carl Hewitt}.  Actors\n"
    "   are autonomous and concurrent {objects} which execute\n   {asynchronously}.\n\n"
    "   {(http://osl.cs.uiuc.edu/)}.\n\n"
    "   [\"Laws for Communicating Parallel Processes\", C. Hewitt et al,\n   IFIP 77, pp. 987-992, N-H 1977].\n\n"
    "   [\"ACTORS: A Model of Concurrent Computation in Distributed\n   Systems\", Gul A. Agha <agha@cs.uiuc.edu>, "
    "Cambridge Press, MA,\n   1986].\n\n   (1999-11-23)\n\n";
// dict-devil, "ABRACADABRA" (its first stanza: verse with mixed indentation, emphasis) and
// "ABNORMAL" (prose with a bracket inside a line).
const char* const kAbracadabra =
    "ABRACADABRA.\n\n    By _Abracadabra_ we signify\n        An infinite number of things.\n"
    "    'Tis the answer to What? and How? and Why?\n";
const char* const kAbnormal =
    "ABNORMAL, adj.  Not conforming to standard.  In matters of thought and\n"
    "conduct, to be independent is to be abnormal, to be abnormal is to be\n"
    "detested.  Wherefore the lexicographer adviseth a striving toward the\n"
    "straiter [sic] resemblance of the Average Man than he hath to himself. \n\n";

}  // namespace

TEST(DictionaryCorpora, JargonMarkupGoesAndParagraphsJoin) {
  EXPECT_EQ(detail::clean_dictionary_entry(kAdHockery),
            "ad-hockery, n.\n\n"
            "1. Gratuitous assumptions made inside certain programs, esp. expert systems, which lead to the "
            "appearance of semi-intelligent behavior but are in fact entirely arbitrary.\n\n"
            "Also called ad-hackery, ad-hocity, ad-crockery. See also ELIZA effect.");
}

TEST(DictionaryCorpora, JargonHeadersAreOneLineWithoutPronunciation) {
  // dict-jargon's "kluge" and "hacker" headers: a pronunciation without marks, a part of speech
  // on its own line.
  EXPECT_EQ(detail::clean_dictionary_entry("kluge\n /klooj/\n\n    1. n. A Rube Goldberg device.\n"),
            "kluge\n\n1. n. A Rube Goldberg device.");
  EXPECT_EQ(detail::clean_dictionary_entry("hacker\n n.\n\n    A person who enjoys exploring the details.\n"),
            "hacker n.\n\nA person who enjoys exploring the details.");
  // In the body a slash word without a pronunciation mark is text.
  EXPECT_EQ(detail::clean_dictionary_entry("x\n\n    see /klooj/ and /etc/passwd\n"), "x\n\nsee /klooj/ and /etc/passwd");
}

TEST(DictionaryCorpora, FoldocTagsCitationsUrlsAndDatesGo) {
  EXPECT_EQ(detail::clean_dictionary_entry(kActors),
            "Actors\n\nA model for concurrency by Carl Hewitt.  Actors are autonomous and concurrent objects which "
            "execute asynchronously.");
  // A tag after a sense number goes too; angle brackets elsewhere, paths and snake_case stay.
  EXPECT_EQ(detail::clean_dictionary_entry("x\n\n   2. <operating system> In {Chorus}, see /usr/bin and a <b> tag, my_var.\n"),
            "x\n\n2. In Chorus, see /usr/bin and a <b> tag, my_var.");
  // Only a whole bracketed paragraph is a citation: "[a] text [b]" is text.
  EXPECT_EQ(detail::clean_dictionary_entry("y\n\n   [from Greek] akme [sic]\n"), "y\n\n[from Greek] akme [sic]");
}

TEST(DictionaryCorpora, DevilVerseKeepsItsLinesAndProseJoins) {
  EXPECT_EQ(detail::clean_dictionary_entry(kAbracadabra),
            "ABRACADABRA.\n\nBy Abracadabra we signify\nAn infinite number of things.\n"
            "'Tis the answer to What? and How? and Why?");
  EXPECT_EQ(detail::clean_dictionary_entry(kAbnormal),
            "ABNORMAL, adj.  Not conforming to standard.  In matters of thought and conduct, to be independent is to "
            "be abnormal, to be abnormal is to be detested.  Wherefore the lexicographer adviseth a striving toward "
            "the straiter [sic] resemblance of the Average Man than he hath to himself.");
}

TEST(DictionaryCorpora, OneDocumentPerEntryFromTheDatabase) {
  TempDir t;
  test_util::write_dictd(t.path(), "jargon",
                         {{"00-database-info", "The Jargon File\n"}, {"ad-hockery", kAdHockery}, {"zzz", "{}\n"}});
  test_util::write_dictd(t.path(), "devil", {{"ABNORMAL", kAbnormal}, {"ABRACADABRA", kAbracadabra}});
  test_util::write_dictd(t.path(), "foldoc", {{"Actors", kActors}});
  CorpusPaths p;
  p.dictd_dir = t.path();
  const Corpus j = load_corpus("jargon", p);
  ASSERT_EQ(j.docs.size(), 1u);  // the database's own entry and an entry with no text are not documents
  EXPECT_EQ(j.docs[0].id.rfind("ad-hockery@", 0), 0u);
  EXPECT_EQ(j.name, "jargon");
  EXPECT_EQ(load_corpus("devil", p).docs.size(), 2u);
  EXPECT_EQ(load_corpus("foldoc", p).docs[0].text.rfind("Actors\n\nA model", 0), 0u);
  // Damaged or missing databases: errors naming the file, or the package to install.
  write_file_atomic(t / "devil.index", "ABNORMAL\tA\tZZZZ\n");  // past the end of the data
  std::string e = error_of([&] { load_corpus("devil", p); });
  EXPECT_NE(e.find(t / "devil.index"), std::string::npos) << e;
  EXPECT_NE(e.find("past the"), std::string::npos) << e;
  write_file_atomic(t / "foldoc.dict.dz", std::string("\x1f\x8b\x08\x00\x00\x00", 6));  // truncated gzip
  e = error_of([&] { load_corpus("foldoc", p); });
  EXPECT_NE(e.find(t / "foldoc.dict.dz"), std::string::npos) << e;
  CorpusPaths none;
  none.dictd_dir = t / "nowhere";
  e = error_of([&] { load_corpus("jargon", none); });
  EXPECT_NE(e.find("dict-jargon"), std::string::npos) << e;
}

TEST(FortuneCorpus, OneDocumentPerFortuneWithItsLines) {
  // dict fortunes, `literature` (BSD): attributions indented with tabs, a leading tab, a blank
  // line before the first; then an overstruck (bold) word.
  const std::string text =
      "\nA banker is a fellow who lends you his umbrella when the sun is shining\n"
      "and wants it back the minute it begins to rain.\n\t\t-- Mark Twain\n%\n"
      "\tA man was reading The Canterbury Tales one Saturday morning, when his\n"
      "wife asked \"What have you got there?\"  Replied he, \"Just my cup and Chaucer.\"\n%\n"
      "A is for Apple.\n\t\t-- Hester Pryne\n%\n";
  const auto f = detail::split_fortunes(text);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0],
            "A banker is a fellow who lends you his umbrella when the sun is shining\n"
            "and wants it back the minute it begins to rain.\n-- Mark Twain");
  EXPECT_EQ(f[1].rfind("A man was reading", 0), 0u);
  EXPECT_EQ(f[2], "A is for Apple.\n-- Hester Pryne");

  TempDir t;
  write_file_atomic(t / "literature", text);
  write_file_atomic(t / "literature.dat", std::string("\x00\x00\x00\x02\xff", 5));  // strfile's index: not read
  write_file_atomic(t / "ascii-art", "  /\\_/\\\n ( o.o )\n%\n");
  write_file_atomic(t / "bold", "B\bBo\bol\bld\bd move.\n%\n");
  CorpusPaths p;
  p.fortunes_dir = t.path();
  const Corpus c = load_corpus("fortunes", p);
  ASSERT_EQ(c.docs.size(), 4u);  // bold#0, then literature#0..2; ascii-art is left out
  EXPECT_EQ(c.docs[0].id, "bold#0");
  EXPECT_EQ(c.docs[0].text, "Bold move.");
  EXPECT_EQ(c.docs[3].id, "literature#2");
  // A fortune file that is not text is refused by name; a missing package names the package.
  write_file_atomic(t / "binary", std::string("\x00\x01\x02 not text", 12));
  std::string e = error_of([&] { load_corpus("fortunes", p); });
  EXPECT_NE(e.find(t / "binary"), std::string::npos) << e;
  p.fortunes_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("fortunes", p); }).find("Debian package fortunes"), std::string::npos);
}
