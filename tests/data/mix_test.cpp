// The mix corpus on small packaged sources made at test time (fortunes files and dictd databases):
// duplicates removed within and across sources, per-source splits, weights, determinism, resume
// and the errors of a bad recipe or a missing package.
#include "data/mix.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"
#include "dictd_test_util.h"
#include "support/temp_dir.h"

namespace structlm::data {
namespace {

using test_util::error_of;
using test_util::TempDir;

const char* kWords[] = {"river", "stone", "lamp", "winter", "quiet", "harbour", "copper", "field", "window",
                        "letter", "garden", "signal", "morning", "silver", "bridge", "candle", "meadow",
                        "thunder", "anchor", "velvet", "orchard", "lantern", "marble", "compass"};

// A sentence-ish text of `n` random words: distinct texts share almost no 5-word shingles.
std::string words(SplitMix64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + kWords[rng.below(sizeof kWords / sizeof *kWords)];
  return s + ".";
}

// One word in 60 changed: Jaccard of the 5-shingle sets about 0.85, a near duplicate.
std::string edited(const std::string& text) {
  std::string out = text;
  std::size_t pos = 0;
  for (int w = 0; (pos = out.find(' ', pos + 1)) != std::string::npos; ++w)
    if (w % 60 == 30) out.insert(pos, "X");
  return out;
}

struct Fixture {
  TempDir tmp{"packages"};
  CorpusPaths paths;
  std::string planted_exact, planted_near, across;  // texts the checks look for
  Fixture() {
    SplitMix64 rng(7);
    std::string tales;
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i) texts.push_back(words(rng, 120));
    planted_exact = texts[10];
    planted_near = texts[20];
    // Within the source: an exact copy (case and spacing differ) and a near copy.
    std::string upper = texts[10];
    for (auto& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    texts.push_back("  " + upper + "   ");
    texts.push_back(edited(texts[20]));
    for (const auto& t : texts) tales += t + "\n%\n";
    make_dirs(tmp / "fortunes");
    write_file_atomic(tmp / "fortunes/fortunes", tales);  // the probe of the fortunes package
    // Across sources: a dictionary entry repeating a fortune word for word.
    across = texts[30];
    std::vector<std::pair<std::string, std::string>> devil, jargon;
    for (int i = 0; i < 80; ++i) devil.push_back({"D" + std::to_string(i), "D" + std::to_string(i) + ", n. " + words(rng, 90) + "\n"});
    for (int i = 0; i < 60; ++i) jargon.push_back({"J" + std::to_string(i), "J" + std::to_string(i) + " n. " + words(rng, 90) + "\n"});
    jargon.push_back({"copy", across + "\n"});
    make_dirs(tmp / "dictd");
    test_util::write_dictd(tmp / "dictd", "devil", devil);
    test_util::write_dictd(tmp / "dictd", "jargon", jargon);
    paths.fortunes_dir = tmp / "fortunes";
    paths.dictd_dir = tmp / "dictd";
  }
};

MixRecipe recipe(double fortunes_weight = 1, double devil_weight = 2, double jargon_weight = 0.5) {
  MixRecipe r;
  r.sources = {{"fortunes", fortunes_weight}, {"devil", devil_weight}, {"jargon", jargon_weight}};
  r.fractions = {0.1, 0.1};
  r.max_share = 0.9;
  return r;
}

std::vector<json> lines_of(const std::string& path) {
  std::vector<json> out;
  for (const auto& l : read_lines(path))
    if (!l.empty()) out.push_back(json::parse(l));
  return out;
}

std::map<std::string, std::string> files_under(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& f : list_files(dir, true)) out[f.substr(dir.size())] = read_file(f);
  return out;
}

TEST(Mix, RemovesDuplicatesWithinAndAcrossSourcesAndSplitsEachSource) {
  Fixture fx;
  TempDir out{"mix"};
  std::vector<std::string> log;
  const MixReport r = build_mix(recipe(), fx.paths, out.path(), [&](const std::string& l) { log.push_back(l); });
  ASSERT_EQ(r.sources.size(), 3u);
  EXPECT_EQ(r.sources[0].name, "fortunes");
  EXPECT_EQ(r.sources[0].documents, 302u);
  EXPECT_EQ(r.sources[0].exact, 1u);
  EXPECT_EQ(r.sources[0].near, 1u);
  EXPECT_EQ(r.sources[2].name, "jargon");
  EXPECT_EQ(r.sources[2].documents, 61u);
  EXPECT_EQ(r.sources[2].exact, 1u);  // the entry that repeats a fortune
  EXPECT_EQ(r.sources[1].exact + r.sources[1].near, 0u);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[2].find("[3/3] jargon"), std::string::npos) << log[2];
  EXPECT_NE(log[0].find("ETA"), std::string::npos) << log[0];

  // Each source is a split directory of its own, ids prefixed with the source, licence on every line.
  for (const auto& c : r.sources) {
    const SplitCorpus s = load_split(out / ("sources/" + c.name));
    EXPECT_EQ(s.train.size(), c.docs[0]);
    EXPECT_EQ(s.val.size() + s.test.size(), c.docs[1] + c.docs[2]);
    EXPECT_GT(s.val.size(), 0u);
    EXPECT_GT(s.test.size(), 0u);
    EXPECT_EQ(s.train.size() + s.val.size() + s.test.size(), c.documents - c.exact - c.near);
    for (const auto& l : lines_of(out / ("sources/" + c.name + "/train.jsonl"))) {
      EXPECT_EQ(l["source"], c.name);
      EXPECT_EQ(l["licence"], c.licence);
      EXPECT_EQ(l["id"].get<std::string>().rfind(c.name + "/", 0), 0u);
    }
  }
  EXPECT_EQ(r.sources[1].licence, "public domain (Bierce, 1911)");
  // The first copy is the one kept: fortune 10 and 20 stay, their copies go, and the jargon entry goes.
  std::size_t exact_seen = 0, near_seen = 0, across_seen = 0;
  for (const char* part : {"train", "val", "test"})
    for (const auto& l : lines_of(out / (std::string(part) + ".jsonl"))) {
      const std::string text = l["text"];
      exact_seen += normalize_for_dedup(text) == normalize_for_dedup(fx.planted_exact);
      near_seen += text == edited(fx.planted_near);
      across_seen += l["source"] == "jargon" && text == fx.across;
    }
  EXPECT_EQ(near_seen, 0u);
  EXPECT_EQ(across_seen, 0u);
  EXPECT_GE(exact_seen, 1u);  // the kept original (twice if it fell in train? weight 1: once)
  EXPECT_LE(exact_seen, 1u);
}

TEST(Mix, WeightsCopyTrainingDocumentsAndLeaveHeldOutTextAlone) {
  Fixture fx;
  TempDir out{"mix"};
  const MixReport r = build_mix(recipe(1, 2, 0.5), fx.paths, out.path());
  const SplitCorpus mix = load_split(out.path());
  std::map<std::string, std::size_t> train_by_source, heldout_by_source;
  std::set<std::string> ids;
  for (const auto& l : lines_of(out / "train.jsonl")) {
    ++train_by_source[l["source"]];
    EXPECT_TRUE(ids.insert(l["id"]).second) << l["id"];  // copies get their own ids
  }
  for (const char* part : {"val.jsonl", "test.jsonl"})
    for (const auto& l : lines_of(out / part)) ++heldout_by_source[l["source"]];
  const auto& f = r.sources[0];
  const auto& d = r.sources[1];
  const auto& j = r.sources[2];
  EXPECT_EQ(train_by_source["fortunes"], f.docs[0]);
  EXPECT_EQ(train_by_source["devil"], 2 * d.docs[0]);
  std::size_t second_copies = 0;
  for (const auto& id : ids) second_copies += id.rfind("devil/", 0) == 0 && id.size() > 2 && id.substr(id.size() - 2) == "#2";
  EXPECT_EQ(second_copies, d.docs[0]);
  // Half of jargon's training entries, chosen by hash: near half, never all or none.
  EXPECT_GT(train_by_source["jargon"], j.docs[0] / 4);
  EXPECT_LT(train_by_source["jargon"], 3 * j.docs[0] / 4);
  EXPECT_EQ(train_by_source["jargon"], j.mix_train_docs);
  EXPECT_EQ(heldout_by_source["devil"], d.docs[1] + d.docs[2]);
  EXPECT_EQ(heldout_by_source["jargon"], j.docs[1] + j.docs[2]);
  EXPECT_EQ(mix.train.size(), f.mix_train_docs + d.mix_train_docs + j.mix_train_docs);
  EXPECT_EQ(r.train_bytes, f.mix_train_bytes + d.mix_train_bytes + j.mix_train_bytes);
  EXPECT_EQ(r.unique_train_bytes, f.bytes[0] + d.bytes[0] + j.bytes[0]);
  EXPECT_EQ(d.mix_train_bytes, 2 * d.bytes[0]);
  // The report read back from mix.json is the one returned.
  const MixReport back = read_mix_report(out.path());
  ASSERT_EQ(back.sources.size(), 3u);
  EXPECT_EQ(back.sources[2].mix_train_docs, j.mix_train_docs);
  EXPECT_EQ(back.train_bytes, r.train_bytes);
}

TEST(Mix, SameInputsGiveByteIdenticalFilesAndAnInterruptedBuildResumes) {
  Fixture fx;
  TempDir a{"a"}, b{"b"};
  build_mix(recipe(), fx.paths, a.path());
  build_mix(recipe(), fx.paths, b.path());
  const auto files = files_under(a.path());
  ASSERT_TRUE(files == files_under(b.path()));  // (a diff of these files would fill the screen)
  EXPECT_TRUE(files.count("/sources/devil/source.json"));

  // An interrupt after the second source: its source.json is its commit mark; the mix's own files
  // are not written yet. The resumed build rebuilds only the rest and ends byte-identical.
  for (const char* f : {"mix.json", "split.json", "train.jsonl", "val.jsonl", "test.jsonl", "sources/jargon/source.json"})
    std::filesystem::remove(b / f);
  const auto devil_time = std::filesystem::last_write_time(b / "sources/devil/train.jsonl");
  std::vector<std::string> log;
  build_mix(recipe(), fx.paths, b.path(), [&](const std::string& l) { log.push_back(l); });
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[1].find("done before"), std::string::npos) << log[1];
  EXPECT_NE(log[2].find("built"), std::string::npos) << log[2];
  EXPECT_EQ(std::filesystem::last_write_time(b / "sources/devil/train.jsonl"), devil_time);
  EXPECT_TRUE(files == files_under(b.path()));
  EXPECT_EQ(read_mix_report(a.path()).train_bytes, read_mix_report(b.path()).train_bytes);
}

TEST(Mix, RefusesARecipeThatDiffersFromTheFinishedOneOrFromAFinishedSource) {
  Fixture fx;
  TempDir out{"mix"};
  build_mix(recipe(), fx.paths, out.path());
  EXPECT_NE(error_of([&] { build_mix(recipe(1, 3, 0.5), fx.paths, out.path()); }).find("another recipe"),
            std::string::npos);
  // Reordered sources change what each source's duplicates were removed against.
  std::filesystem::remove(out / "mix.json");
  MixRecipe swapped = recipe();
  std::swap(swapped.sources[0], swapped.sources[1]);
  const std::string e = error_of([&] { build_mix(swapped, fx.paths, out.path()); });
  EXPECT_NE(e.find("source.json"), std::string::npos) << e;
  EXPECT_NE(e.find("source order"), std::string::npos) << e;
}

// A finished source whose file was cut short (a disk filled, a copy interrupted) is named when
// the mix resumes, rather than read as fewer documents.
TEST(Mix, ADamagedFinishedSourceIsNamedOnResume) {
  Fixture fx;
  TempDir out{"mix"};
  build_mix(recipe(), fx.paths, out.path());
  for (const char* f : {"mix.json", "split.json", "train.jsonl", "val.jsonl", "test.jsonl"})
    std::filesystem::remove(out / f);
  const std::string path = out / "sources/devil/train.jsonl";
  const std::string text = read_file(path);
  write_file_atomic(path, text.substr(0, text.size() / 2));
  const std::string e = error_of([&] { build_mix(recipe(), fx.paths, out.path()); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
  EXPECT_FALSE(file_exists(out / "mix.json"));
}

TEST(Mix, NamesAMissingPackageBeforeWritingAnything) {
  Fixture fx;
  TempDir out{"mix"};
  CorpusPaths p = fx.paths;
  p.dictd_dir = fx.tmp / "nowhere";
  const std::string e = error_of([&] { build_mix(recipe(), p, out / "m"); });
  EXPECT_NE(e.find("devil (apt dict-devil)"), std::string::npos) << e;
  EXPECT_NE(e.find("jargon (apt dict-jargon)"), std::string::npos) << e;
  EXPECT_NE(e.find("setup.sh --corpus mix"), std::string::npos) << e;
  EXPECT_FALSE(file_exists(out / "m"));
}

TEST(Mix, ASourceOverTheMaximumShareFailsBeforeTheMixIsWritten) {
  Fixture fx;
  TempDir out{"mix"};
  MixRecipe r = recipe(1, 8, 1);
  r.max_share = 0.5;
  const std::string e = error_of([&] { build_mix(r, fx.paths, out.path()); });
  EXPECT_NE(e.find("source 'devil' would hold 0."), std::string::npos) << e;
  EXPECT_FALSE(file_exists(out / "mix.json"));
  EXPECT_FALSE(file_exists(out / "split.json"));
  EXPECT_TRUE(file_exists(out / "sources/jargon/source.json"));  // the work done is kept
}

TEST(Mix, RecipeIsReadStrictly) {
  const std::string path = "configs/test-mix.json";
  const json good = {{"sources", {{{"name", "kjv"}, {"weight", 2}}, {{"name", "gcide"}}}}, {"val", 0.02}, {"test", 0.02}};
  const MixRecipe r = mix_recipe_from_json(good, path);
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[0].weight, 2);
  EXPECT_EQ(r.sources[1].weight, 1);
  EXPECT_EQ(mix_recipe_from_json(to_json(r), path).sources[1].name, "gcide");
  EXPECT_EQ(to_json(mix_recipe_from_json(to_json(r), path)), to_json(r));
  auto error_for = [&](json j) { return error_of([&] { mix_recipe_from_json(j, path); }); };
  json j = good;
  j["wieght"] = 1;
  EXPECT_NE(error_for(j).find("wieght"), std::string::npos);
  j = good;
  j["sources"][0]["wieght"] = 1;
  EXPECT_NE(error_for(j).find("sources[0]"), std::string::npos);
  j = good;
  j["sources"][1]["name"] = "wikipedia";
  EXPECT_NE(error_for(j).find("'wikipedia' is not a packaged corpus"), std::string::npos);
  j = good;
  j["sources"][1]["name"] = "kjv";
  EXPECT_NE(error_for(j).find("listed twice"), std::string::npos);
  j = good;
  j["sources"][0]["weight"] = -1;
  EXPECT_NE(error_for(j).find("weight"), std::string::npos);
  j = good;
  j["sources"] = json::array();
  EXPECT_NE(error_for(j).find("non-empty array"), std::string::npos);
  j = good;
  j["val"] = 0;
  EXPECT_NE(error_for(j).find("'val'"), std::string::npos);
  EXPECT_NE(error_of([&] { mix_recipe_from_json(json::array(), path); }).find(path), std::string::npos);
}

// The recipe the project ships parses, and names only packaged corpora.
TEST(Mix, TheShippedRecipeParses) {
  const MixRecipe r = load_mix_recipe(std::string(STRUCTLM_SOURCE_DIR) + "/configs/mix.json");
  EXPECT_GE(r.sources.size(), 10u);
  EXPECT_EQ(r.max_share, 0.5);
}

}  // namespace
}  // namespace structlm::data
