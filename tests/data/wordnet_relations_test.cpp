// WordNet relations: a hand-written set of data files whose relations are worked out by hand
// below, malformed lines (each error names file:line), and a few known relations of the real
// WordNet 3.0 when Debian's wordnet-base is installed.
#include "data/wordnet_relations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const char* kHeader = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
                      "  2 Princeton University under the following license.  \n";

// Offsets are keys, not the byte offsets of real files: the reader only matches them.
const char* kNoun =
    "00001000 05 n 02 Dog 0 domestic_dog 0 002 @ 00002000 n 0000 ~ 00004000 n 0000 | a domesticated canid  \n"
    "00002000 05 n 01 canine 0 002 @ 00003000 n 0000 ~ 00001000 n 0000 | a carnivore  \n"
    "00003000 05 n 01 carnivore 0 000 | an animal that eats meat  \n"
    "00004000 18 n 02 Fido 0 fido 1 001 @i 00001000 n 0000 | a famous dog  \n"
    "00009000 04 n 01 barking 0 001 @ 00005000 v 0000 | a cross-pos hypernym, resolved in data.verb  \n";
const char* kVerb =
    "00005000 32 v 02 bark 0 yap 1 001 @ 00006000 v 0000 01 + 02 00 | make a barking sound  \n"
    "00006000 32 v 01 talk 0 000 02 + 02 00 + 08 01 | exchange thoughts  \n"
    "00006500 38 v 01 dog 0 001 @ 00006600 v 0000 01 + 08 00 | go after with the intent to catch  \n"
    "00006600 38 v 01 chase 0 000 01 + 08 00 | go after  \n";
const char* kAdj =
    "00007000 00 a 02 big 0 large(a) 0 001 ! 00007200 a 0101 | above average in size  \n"
    "00007100 00 s 01 galore(ip) 0 001 & 00007000 a 0000 | in abundance  \n"
    "00007200 00 a 01 small 0 001 ! 00007000 a 0101 | limited in size  \n";
const char* kAdv = "00008000 02 r 02 quickly 0 speedily 0 001 \\ 00007000 a 0101 | with speed  \n";

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The four files, with `replace` substituted for one of them (by its pos name).
void write_set(const TempDir& dir, const std::string& pos = "", const std::string& replace = "") {
  const std::pair<const char*, const char*> files[] = {{"noun", kNoun}, {"verb", kVerb}, {"adj", kAdj}, {"adv", kAdv}};
  for (auto [name, body] : files)
    write(dir / ("data." + std::string(name)), std::string(kHeader) + (pos == name ? replace : body));
}

}  // namespace

TEST(WordnetRelations, HandWrittenFiles) {
  TempDir dir;
  write_set(dir);
  const data::WordRelations expected = {
      {"dog", {"domestic_dog", "canine", "chase"}},  // noun synset + hypernym, verb synset's hypernym
      {"domestic_dog", {"dog", "canine"}},
      {"canine", {"carnivore"}},                     // '~' (hyponym) is not a relation
      {"carnivore", {}},
      {"fido", {"dog", "domestic_dog"}},             // "Fido" and "fido" are one lemma; '@i' counts
      {"barking", {"bark", "yap"}},
      {"bark", {"yap", "talk"}},
      {"yap", {"bark", "talk"}},
      {"talk", {}},
      {"chase", {}},
      {"big", {"large"}},                            // "(a)" stripped; '!' (antonym) is not a relation
      {"large", {"big"}},
      {"small", {}},
      {"galore", {}},                                // "(ip)" stripped; '&' (similar to) is not a relation
      {"quickly", {"speedily"}},
      {"speedily", {"quickly"}},
  };
  EXPECT_EQ(data::load_wordnet_relations(dir.path()), expected);
}

TEST(WordnetRelations, MalformedLinesNameFileAndLine) {
  struct Case {
    const char* pos;
    std::string body;
    std::string where;  // file:line expected in the message
    std::string what;   // and a word of the problem
  };
  const std::string n1 = "00001000 05 n 01 dog 0 000 | gloss\n";
  const std::vector<Case> cases = {
      {"noun", n1 + "00002000 05 n 0x dog 0 000 | bad word count\n", "data.noun:4", "word count"},
      {"noun", "00001000 05 n 02 dog 0 000 | too few words\n", "data.noun:3", "lex_id"},
      {"noun", "00001000 05 n 01 dog 0 002 @ 00002000 n 0000 | too few pointers\n", "data.noun:3", "pointer symbol"},
      {"noun", "00001000 05 n 01 dog 0 000 @ 00002000 n 0000 | too many fields\n", "data.noun:3", "unexpected fields"},
      {"noun", "00001000 05 n 01 dog 0 001 @ 00002000 x 0000 | bad pos\n", "data.noun:3", "pointer pos"},
      {"noun", "00001000 05 n 01 dog 0 001 @ 00002000 n 00g0 | bad source/target\n", "data.noun:3", "source/target"},
      {"noun", "00001000 05 v 01 dog 0 000 | verb in the noun file\n", "data.noun:3", "ss_type"},
      {"noun", "1000 05 n 01 dog 0 000 | short offset\n", "data.noun:3", "synset offset"},
      {"noun", n1 + "00001000 05 n 01 cat 0 000 | duplicate offset\n", "data.noun:4", "line 3"},
      {"noun", n1 + "00002000 05 n 01 cat 0 001 @ 00009999 n 0000 | dangling\n", "data.noun:4", "00009999"},
      {"noun", n1 + "00002000 05 n 01 cat 0 001 @ 00001000 v 0000 | wrong file\n", "data.noun:4", "data.verb"},
      {"noun", "00001000 05 n 00 000 | no words\n", "data.noun:3", "no words"},
      {"verb", "00005000 32 v 01 bark 0 000 | no frame count\n", "data.verb:3", "frame count"},
      {"verb", "00005000 32 v 01 bark 0 000 01 - 02 00 | bad frame\n", "data.verb:3", "'+'"},
      {"adj", "00007000 00 a 01 (a) 0 000 | only a marker\n", "data.adj:3", "empty word"},
  };
  for (const Case& c : cases) {
    TempDir dir(c.pos);
    write_set(dir, c.pos, c.body);
    const std::string msg = error_of([&] { data::load_wordnet_relations(dir.path()); });
    EXPECT_NE(msg.find(c.where + ": "), std::string::npos) << c.body << " -> " << msg;
    EXPECT_NE(msg.find(c.what), std::string::npos) << c.body << " -> " << msg;
  }

  TempDir missing("missing");
  write_set(missing);
  std::remove((missing / "data.adv").c_str());
  EXPECT_NE(error_of([&] { data::load_wordnet_relations(missing.path()); }).find("data.adv: not found"), std::string::npos);

  TempDir empty("empty");
  for (const char* pos : {"noun", "verb", "adj", "adv"}) write(empty / ("data." + std::string(pos)), kHeader);
  EXPECT_NE(error_of([&] { data::load_wordnet_relations(empty.path()); }).find("no synsets"), std::string::npos);
}

TEST(WordnetRelations, RealWordNet) {
  const std::string dir = "/usr/share/wordnet";
  if (!file_exists(dir + "/data.noun")) GTEST_SKIP() << "WordNet is not installed (Debian wordnet-base)";
  const auto t0 = std::chrono::steady_clock::now();
  const auto rel = data::load_wordnet_relations(dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t pairs = 0;
  for (const auto& [lemma, related] : rel) pairs += related.size();
  std::cout << "WordNet: " << rel.size() << " lemmas, " << pairs << " relations, " << seconds << " s\n";

  // WordNet 3.0 has 147,306 distinct lemmas (wnstats(7WN)); lower-casing merges a few.
  EXPECT_GT(rel.size(), 140000u);
  EXPECT_LE(rel.size(), 147306u);
  auto related = [&](const std::string& a, const std::string& b) {
    auto it = rel.find(a);
    return it != rel.end() && it->second.count(b) > 0;
  };
  EXPECT_TRUE(related("dog", "domestic_dog"));   // synonym
  EXPECT_TRUE(related("dog", "canine"));         // hypernym
  EXPECT_TRUE(related("car", "auto"));
  EXPECT_TRUE(related("car", "automobile"));
  EXPECT_TRUE(related("car", "motor_vehicle"));  // hypernym
  EXPECT_TRUE(related("einstein", "physicist"));  // instance hypernym '@i'
  EXPECT_TRUE(related("big", "large"));           // adjective, "large(a)"... marker-free
  EXPECT_TRUE(related("quickly", "rapidly"));     // adverb
  EXPECT_FALSE(related("dog", "dog"));
  EXPECT_FALSE(related("dog", "puppy"));          // a hyponym, not a hypernym
  for (const auto& [lemma, r] : rel) {
    ASSERT_EQ(lemma.find('('), std::string::npos) << lemma;  // no adjective marker left
    ASSERT_EQ(r.count(lemma), 0u) << lemma;
  }
}
