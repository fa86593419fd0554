// `structlm experiment cstde --quick` end to end (the CI-size experiment): the table's shape, every
// number finite, the raw logs the report reads, resuming a finished experiment, and `structlm
// parse` on the trained models (text and CoNLL-U).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"

namespace fs = std::filesystem;
using structlm::json;

namespace {

using cli_test::Result;
const auto run_cli = cli_test::run;

// One quick experiment shared by the tests of this file (it is the expensive part).
class CstdeExperiment : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = fs::temp_directory_path() / ("structlm_cstde_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    first = run_cli("experiment cstde --quick --out " + (dir / "exp").string() + " --data-dir " + (dir / "data").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }
  static fs::path dir;
  static Result first;
};
fs::path CstdeExperiment::dir;
Result CstdeExperiment::first;

const std::vector<std::string> kVariants = {"baseline", "attention", "both", "init", "nocarry"};

TEST_F(CstdeExperiment, TableHasEveryVariantSeedAndMetricWithFiniteNumbers) {
  ASSERT_EQ(first.code, 0) << first.out;
  json e = structlm::load_json((dir / "exp/cstde/experiment.json").string());
  EXPECT_EQ(e["experiment"], "cstde");
  EXPECT_EQ(e["baseline"], "baseline");
  std::vector<std::string> keys;
  for (const auto& m : e["metrics"]) keys.push_back(m["key"]);
  for (const char* corpus : {"brown", "nlp-corpus", "kjv", "wordnet"})
    for (const char* what : {"_ppl", "_bpb"})
      EXPECT_NE(std::find(keys.begin(), keys.end(), corpus + std::string(what)), keys.end()) << corpus << what;
  ASSERT_EQ(e["rows"].size(), kVariants.size() * 3);  // 3 seeds each
  std::set<std::pair<std::string, int>> seen;
  std::map<int, double> baseline_val;
  for (const auto& row : e["rows"])
    if (row["variant"] == "baseline") baseline_val[row["seed"].get<int>()] = row["values"]["val_loss"].get<double>();
  for (const auto& row : e["rows"]) {
    const std::string v = row["variant"];
    seen.insert({v, row["seed"].get<int>()});
    for (const auto& k : keys) {
      ASSERT_TRUE(row["values"].contains(k)) << v << " " << k;
      const json& x = row["values"][k];
      // Not measured is allowed only where the quantity does not exist: D for models without
      // dependency attention, and text statistics a short generation may not define.
      if (x.is_null()) {
        const bool no_d = (k == "uas_dependency" || k == "uas_dependency_far" || k == "prior_weight") &&
                          (v == "baseline" || v == "init");
        const bool no_carry = k == "carry_gate" && (v == "baseline" || v == "init" || v == "nocarry");
        // The token multiplier, where the baseline never comes down to this run's loss.
        const bool beyond = k == "token_multiplier" &&
                            row["values"]["val_loss"].get<double>() < baseline_val.at(row["seed"].get<int>());
        EXPECT_TRUE(no_d || no_carry || beyond || k == "mtld" || k == "sentence_w1" || k == "far_loss")
            << v << " " << k << " is null";
        continue;
      }
      ASSERT_TRUE(x.is_number()) << v << " " << k;
      EXPECT_TRUE(std::isfinite(x.get<double>())) << v << " " << k;
    }
    const auto& val = row["values"];
    EXPECT_GT(val["brown_ppl"].get<double>(), 1.0);
    EXPECT_LT(val["brown_ppl"].get<double>(), 600.0);  // below uniform over 512 tokens: it trained
    EXPECT_GT(val["step_ms"].get<double>(), 0.0);
    EXPECT_GT(val["peak_rss_mib"].get<double>(), 10.0);
    EXPECT_NEAR(val["params_rel"].get<double>(), 1.0, 0.02);  // equal size within ±2 %
    if (v == "baseline") EXPECT_NEAR(val["token_multiplier"].get<double>(), 1.0, 0.25);  // itself, up to a non-monotone curve
    const bool has_d = v == "attention" || v == "both" || v == "nocarry";
    EXPECT_EQ(val["uas_dependency"].is_number(), has_d) << v;
    EXPECT_EQ(val["prior_weight"].is_number(), has_d) << v;
    if (has_d) EXPECT_GT(val["prior_weight"].get<double>(), 0.0) << v;  // beta starts at 0: it trained
    EXPECT_EQ(val["carry_gate"].is_number(), v == "attention" || v == "both") << v;
    if (val["carry_gate"].is_number()) {
      EXPECT_GT(val["carry_gate"].get<double>(), 0.0);
      EXPECT_LT(val["carry_gate"].get<double>(), 1.0);
    }
    EXPECT_GE(val["uas_attention"].get<double>(), 0.0);
    EXPECT_LE(val["uas_attention"].get<double>(), 1.0);
    EXPECT_EQ(val["uas_dependency_far"].is_number(), has_d) << v;
    // The baselines do not depend on the model: the same probe sentences give the same values.
    EXPECT_GT(val["uas_adjacent"].get<double>(), val["uas_random"].get<double>()) << v;
  }
  EXPECT_EQ(seen.size(), kVariants.size() * 3);
}

TEST_F(CstdeExperiment, RawLogsTableAndReportAreWritten) {
  ASSERT_EQ(first.code, 0) << first.out;
  int lines = 0;
  for (const auto& line : structlm::read_lines((dir / "exp/cstde/loss_by_distance.jsonl").string())) {
    if (line.empty()) continue;
    json j = json::parse(line);
    EXPECT_GE(j["distance"].get<int>(), 1);
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
    EXPECT_GT(j["tokens"].get<int>(), 0);
    ++lines;
  }
  EXPECT_GE(lines, 15);  // at least one distance bucket per run
  // The learning curves: every run's validation lines, tokens ascending within a run.
  std::map<std::pair<std::string, int>, std::vector<long long>> curve_tokens;
  for (const auto& line : structlm::read_lines((dir / "exp/cstde/learning_curves.jsonl").string())) {
    if (line.empty()) continue;
    json j = json::parse(line);
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
    curve_tokens[{j["variant"], j["seed"]}].push_back(j["training_tokens"].get<long long>());
  }
  EXPECT_EQ(curve_tokens.size(), 15u);  // 5 variants x 3 seeds
  for (const auto& [run, t] : curve_tokens) EXPECT_TRUE(std::is_sorted(t.begin(), t.end())) << run.first;
  auto lengths = structlm::read_lines((dir / "exp/cstde/sentence_lengths.jsonl").string());
  ASSERT_FALSE(lengths.empty());
  EXPECT_EQ(json::parse(lengths[0])["kind"], "reference");
  const std::string table = structlm::read_file((dir / "exp/cstde/table.md").string());
  EXPECT_NE(table.find("| metric | baseline (baseline) | attention | both | init | nocarry |"), std::string::npos) << table;
  EXPECT_NE(table.find("3 seeds"), std::string::npos);
  // Held-out perplexity paired over documents too: every corpus and variant, from each run's
  // per-document scores (the runs' eval text is the same, so the documents pair up).
  EXPECT_NE(table.find("## Held-out perplexity, paired over seeds and over documents"), std::string::npos) << table;
  for (const char* corpus : {"brown", "nlp-corpus", "kjv", "wordnet"})
    for (const char* v : {"attention", "both", "init", "nocarry"})
      EXPECT_NE(table.find(std::string("| ") + corpus + " | " + v + " | "), std::string::npos) << corpus << " " << v;
  json result = structlm::load_json((dir / "exp/runs/both-seed2/result.json").string());
  for (const auto& e : result["eval"]) {
    std::size_t tokens = 0;
    for (const auto& t : e["documents"]["tokens"]) tokens += t.get<std::size_t>();
    EXPECT_EQ(tokens, e["tokens"].get<std::size_t>()) << e["corpus"];
    // 4,000 tokens: inside Brown's and nlp-corpus's first document, over several of the others.
    EXPECT_GE(e["documents"]["tokens"].size(), e["corpus"] == "kjv" || e["corpus"] == "wordnet" ? 2u : 1u) << e["corpus"];
  }
  EXPECT_NE(table.find("| brown | attention | "), std::string::npos);
  EXPECT_NE(table.find("n/a (1 document)"), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(dir / "exp/report.html"));
  const std::string report = structlm::read_file((dir / "exp/report.md").string());
  EXPECT_NE(report.find("CSTDE experiment"), std::string::npos);
  EXPECT_NE(report.find("Validation loss on the training corpora over training tokens"), std::string::npos);
  // Structured init ran for the init variants and logged its statistics.
  json st = structlm::load_json((dir / "exp/runs/init-seed1/structured_init.json").string());
  EXPECT_GT(st["rows_structured"].get<int>(), 100);
}

TEST_F(CstdeExperiment, RerunKeepsFinishedRuns) {
  ASSERT_EQ(first.code, 0) << first.out;
  const auto before = fs::last_write_time(dir / "exp/runs/both-seed2/result.json");
  auto again = run_cli("experiment cstde --quick --out " + (dir / "exp").string() + " --data-dir " + (dir / "data").string());
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("[15/15] nocarry seed 3: done earlier"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("] training "), std::string::npos) << again.out;  // no "[i/n] training" line
  EXPECT_EQ(fs::last_write_time(dir / "exp/runs/both-seed2/result.json"), before);
}

TEST_F(CstdeExperiment, ParsePrintsHeadsAsTextAndConllu) {
  ASSERT_EQ(first.code, 0) << first.out;
  const std::string sentence = "The jury said that the city was well run.";
  auto conllu = run_cli("parse --model " + (dir / "exp/runs/both-seed1").string() + " --format conllu '" + sentence + "'");
  ASSERT_EQ(conllu.code, 0) << conllu.out;
  EXPECT_NE(conllu.out.find("# text = " + sentence), std::string::npos) << conllu.out;
  std::istringstream in(conllu.out);
  int tokens = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream cols(line);
    for (std::string c; std::getline(cols, c, '\t');) f.push_back(c);
    ASSERT_EQ(f.size(), 10u) << line;  // CoNLL-U has ten columns
    const int id = std::stoi(f[0]), head = std::stoi(f[6]);
    EXPECT_EQ(id, tokens + 1);
    EXPECT_LT(head, id) << line;  // heads are earlier tokens (causal), 0 = root
    EXPECT_EQ(head == 0, f[7] == "root") << line;
    EXPECT_NE(f[9].find("DHead="), std::string::npos) << line;  // a CSTDE model has D
    ++tokens;
  }
  EXPECT_GE(tokens, 9);

  auto text = run_cli("parse --model " + (dir / "exp/runs/baseline-seed1").string() + " --link-grammar '" + sentence + "'");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("no D: plain model"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("link-grammar"), std::string::npos) << text.out;

  auto bad = run_cli("parse --model " + (dir / "nowhere").string() + " 'x'");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("structlm: error:"), std::string::npos) << bad.out;
}

}  // namespace
