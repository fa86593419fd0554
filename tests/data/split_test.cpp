// Splits: deterministic, stable as a corpus grows, never empty for tiny corpora, written once
// and reused.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "data/split.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

Corpus numbered(int n, int first = 0) {
  Corpus c{"num", "test", {}};
  for (int i = first; i < first + n; ++i) c.docs.push_back({"doc" + std::to_string(i), "text of " + std::to_string(i)});
  return c;
}

std::set<std::string> ids(const std::vector<Document>& docs) {
  std::set<std::string> s;
  for (const auto& d : docs) s.insert(d.id);
  return s;
}

}  // namespace

TEST(Split, DeterministicAndRoughlyProportional) {
  Corpus c = numbered(10000);
  SplitCorpus a = split_corpus(c, {0.1, 0.05}, 7), b = split_corpus(c, {0.1, 0.05}, 7);
  EXPECT_EQ(ids(a.val), ids(b.val));
  EXPECT_EQ(ids(a.test), ids(b.test));
  EXPECT_EQ(a.train.size() + a.val.size() + a.test.size(), 10000u);
  EXPECT_NEAR(a.val.size(), 1000, 120);
  EXPECT_NEAR(a.test.size(), 500, 90);
  SplitCorpus other = split_corpus(c, {0.1, 0.05}, 8);  // the seed matters
  EXPECT_NE(ids(a.val), ids(other.val));
  // Documents keep corpus order inside a split.
  for (std::size_t i = 1; i < a.train.size(); ++i)
    EXPECT_LT(std::stoi(a.train[i - 1].id.substr(3)), std::stoi(a.train[i].id.substr(3)));
}

TEST(Split, AddingOrReorderingDocumentsMovesNoExistingDocument) {
  Corpus small = numbered(1000);
  Corpus big = numbered(3000);
  std::reverse(big.docs.begin(), big.docs.end());
  SplitCorpus s = split_corpus(small), b = split_corpus(big);
  auto bval = ids(b.val), btest = ids(b.test), btrain = ids(b.train);
  for (const auto& d : s.val) EXPECT_TRUE(bval.count(d.id)) << d.id;
  for (const auto& d : s.test) EXPECT_TRUE(btest.count(d.id)) << d.id;
  for (const auto& d : s.train) EXPECT_TRUE(btrain.count(d.id)) << d.id;
}

TEST(Split, TinyCorporaGetValAndTestDocuments) {
  for (int n = 3; n <= 12; ++n)
    for (unsigned long long seed = 0; seed < 20; ++seed) {
      SplitCorpus s = split_corpus(numbered(n), {}, seed);
      EXPECT_GE(s.val.size(), 1u) << n << " " << seed;
      EXPECT_GE(s.test.size(), 1u) << n << " " << seed;
      EXPECT_GE(s.train.size(), 1u) << n << " " << seed;
      EXPECT_EQ(s.train.size() + s.val.size() + s.test.size(), static_cast<std::size_t>(n));
    }
  SplitCorpus two = split_corpus(numbered(2));
  EXPECT_EQ(two.train.size() + two.val.size() + two.test.size(), 2u);
  SplitCorpus no_test = split_corpus(numbered(5), {0.2, 0.0});
  EXPECT_TRUE(no_test.test.empty());  // a split nobody asked for stays empty
  EXPECT_FALSE(no_test.val.empty());
}

TEST(Split, BadFractionsAreErrors) {
  EXPECT_NE(error_of([] { split_corpus(numbered(5), {0.6, 0.5}); }).find("fractions"), std::string::npos);
  EXPECT_NE(error_of([] { split_corpus(numbered(5), {-0.1, 0.1}); }).find("fractions"), std::string::npos);
}

TEST(Split, PrepareWritesOnceAndReuses) {
  TempDir tmp;
  std::string jsonl;
  for (int i = 0; i < 200; ++i) jsonl += "{\"id\": \"d" + std::to_string(i) + "\", \"text\": \"doc \\u00e9 " + std::to_string(i) + "\"}\n";
  write_file_atomic(tmp / "c.jsonl", jsonl);
  SplitCorpus first = prepare_split(tmp / "c.jsonl", tmp / "split");
  EXPECT_TRUE(file_exists(tmp / "split/split.json"));
  EXPECT_TRUE(file_exists(tmp / "split/train.jsonl"));
  EXPECT_TRUE(file_exists(tmp / "split/val.jsonl"));
  EXPECT_TRUE(file_exists(tmp / "split/test.jsonl"));
  EXPECT_EQ(first.name, "c");
  EXPECT_EQ(first.train.size() + first.val.size() + first.test.size(), 200u);
  json meta = load_json(tmp / "split/split.json");
  EXPECT_EQ(meta["seed"].get<unsigned long long>(), 1234u);
  EXPECT_EQ(meta["ids"]["val"].size(), first.val.size());

  // The corpus changes afterwards; the prepared split must not.
  write_file_atomic(tmp / "c.jsonl", "{\"id\": \"new\", \"text\": \"changed\"}\n");
  SplitCorpus again = prepare_split(tmp / "c.jsonl", tmp / "split");
  ASSERT_EQ(again.train.size(), first.train.size());
  for (std::size_t i = 0; i < first.train.size(); ++i) {
    EXPECT_EQ(again.train[i].id, first.train[i].id);
    EXPECT_EQ(again.train[i].text, first.train[i].text);
  }
  SplitCorpus loaded = load_split(tmp / "split");
  EXPECT_EQ(ids(loaded.test), ids(first.test));
  EXPECT_EQ(loaded.val[0].text.find("doc \xc3\xa9 "), 0u);  // UTF-8 survives the round trip

  // Asking for a different seed in the same directory is an error, not a silent reuse.
  std::string msg = error_of([&] { prepare_split(tmp / "c.jsonl", tmp / "split", {}, 99); });
  EXPECT_NE(msg.find("split.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("seed 1234"), std::string::npos) << msg;
}

TEST(Split, DamagedSplitFilesAreErrorsNamingTheFile) {
  TempDir tmp;
  EXPECT_NE(error_of([&] { load_split(tmp / "nothing"); }).find("split.json: not found"), std::string::npos);
  write_file_atomic(tmp / "c.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"}\n{\"text\": \"d\"}\n");
  prepare_split(tmp / "c.jsonl", tmp / "s");
  write_file_atomic(tmp / "s/val.jsonl", "{\"id\": \"other\", \"text\": \"x\"}\n");
  std::string msg = error_of([&] { load_split(tmp / "s"); });
  EXPECT_NE(msg.find("val.jsonl"), std::string::npos) << msg;
  write_file_atomic(tmp / "s/test.jsonl", "not json\n");
  write_file_atomic(tmp / "s/val.jsonl", "");
  msg = error_of([&] { load_split(tmp / "s"); });
  EXPECT_NE(msg.find(".jsonl"), std::string::npos) << msg;
  write_file_atomic(tmp / "s/split.json", "{\"ids\": 3}");
  msg = error_of([&] { load_split(tmp / "s"); });
  EXPECT_NE(msg.find("split.json"), std::string::npos) << msg;
}
