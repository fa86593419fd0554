// `structlm experiment hcma --quick` end to end (the CI-size experiment): the frozen-weights
// guarantee checked on every aligned file by an independent byte comparison here, the table's
// shape (every variant x seed x metric), the raw logs the report reads, resuming, and `structlm
// align` / `eval --suite hcma` on their own, bad input included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/safetensors.h"

namespace fs = std::filesystem;
using structlm::json;

namespace {

using cli_test::Result;
const auto run_cli = cli_test::run;

class HcmaExperiment : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = fs::temp_directory_path() / ("structlm_hcma_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    first = run_cli("experiment hcma --quick --out " + (dir / "exp").string() + " --data-dir " + (dir / "data").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }
  static fs::path dir;
  static Result first;
};
fs::path HcmaExperiment::dir;
Result HcmaExperiment::first;

const std::vector<std::string> kVariants = {"original", "hcma", "abtt", "whiten", "emb-finetune", "emb-noise", "cosreg"};

// Raw bytes of every tensor of a safetensors file, read with the format reader alone (no model
// code): the comparison the guarantee is about.
std::map<std::string, std::string> tensor_bytes(const std::string& path) {
  structlm::formats::SafetensorsReader r(path);
  std::map<std::string, std::string> out;
  for (const auto& t : r.tensors()) out[t.name] = std::string(reinterpret_cast<const char*>(r.data(t)), t.nbytes());
  return out;
}

TEST_F(HcmaExperiment, AlignedModelsDifferFromTheSourceOnlyInTheInputTable) {
  ASSERT_EQ(first.code, 0) << first.out;
  const auto src = tensor_bytes((dir / "exp/base/checkpoints/latest.safetensors").string());
  ASSERT_TRUE(src.count("wte.weight"));
  ASSERT_FALSE(src.count("lm_head.weight"));  // the quick model is tied
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir / "exp/aligned")) {
    if (e.path().extension() != ".safetensors") continue;
    ++files;
    const auto al = tensor_bytes(e.path().string());
    ASSERT_TRUE(al.count("lm_head.weight")) << e.path() << ": the aligned model must be untied";
    EXPECT_EQ(al.at("lm_head.weight"), src.at("wte.weight")) << e.path() << ": output matrix changed";
    EXPECT_EQ(al.at("wte.weight").size(), src.at("wte.weight").size());
    EXPECT_NE(al.at("wte.weight"), src.at("wte.weight")) << e.path() << ": the input table did not move";
    for (const auto& [name, bytes] : src) {
      if (name == "wte.weight" || name.rfind("optim.", 0) == 0) continue;
      ASSERT_TRUE(al.count(name)) << e.path() << " lacks " << name;
      EXPECT_EQ(al.at(name), bytes) << e.path() << ": " << name << " changed";
    }
    for (const auto& [name, bytes] : al)
      EXPECT_TRUE(name == "lm_head.weight" || src.count(name)) << e.path() << ": unexpected tensor " << name;
  }
  // hcma and the three trained baselines per seed, abtt and whiten once.
  EXPECT_EQ(files, 4 * 3 + 2);
}

TEST_F(HcmaExperiment, TableHasEveryVariantSeedAndMetric) {
  ASSERT_EQ(first.code, 0) << first.out;
  json e = structlm::load_json((dir / "exp/hcma/experiment.json").string());
  EXPECT_EQ(e["experiment"], "hcma");
  EXPECT_EQ(e["baseline"], "original");
  std::vector<std::string> keys;
  for (const auto& m : e["metrics"]) keys.push_back(m["key"]);
  for (const char* k : {"rare_recall10", "frequent_ppl", "fgsm_0.1", "hotflip_2", "typo_2", "agreement_4", "kv_recall",
                        "isotropy", "isoscore", "wordnet_hits10", "tokens_per_s", "self_similarity_adj"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  ASSERT_EQ(e["rows"].size(), kVariants.size() * 3);
  std::set<std::pair<std::string, int>> seen;
  for (const auto& row : e["rows"]) {
    const std::string v = row["variant"];
    seen.insert({v, row["seed"].get<int>()});
    for (const auto& k : keys) {
      ASSERT_TRUE(row["values"].contains(k)) << v << " " << k;
      const json& x = row["values"][k];
      if (x.is_null()) {
        // Undefined only where there is nothing to measure: the alignment cost of the original
        // model, and the recall of the rarest bucket, which the CI-size test text may not hold.
        const bool align_cost = v == "original" && (k == "align_wall_s" || k == "align_peak_rss_mib");
        EXPECT_TRUE(align_cost || k == "recall10_lt10") << v << " " << k << " is null";
        continue;
      }
      ASSERT_TRUE(x.is_number()) << v << " " << k;
      EXPECT_TRUE(std::isfinite(x.get<double>())) << v << " " << k;
    }
    const auto& val = row["values"];
    EXPECT_GT(val["frequent_ppl"].get<double>(), 1.0);
    EXPECT_GE(val["rare_recall10"].get<double>(), 0.0);
    EXPECT_LE(val["rare_recall10"].get<double>(), 1.0);
    EXPECT_GT(val["tokens_per_s"].get<double>(), 0.0);
  }
  for (const auto& v : kVariants)
    for (int seed : {1, 2, 3}) EXPECT_TRUE(seen.count({v, seed})) << v << " seed " << seed;

  // The closed-form baselines are one file for all seeds: their E is identical under each seed.
  const auto r1 = structlm::load_json((dir / "exp/variants/abtt-seed1/result.json").string());
  const auto r2 = structlm::load_json((dir / "exp/variants/abtt-seed2/result.json").string());
  EXPECT_EQ(r1["isotropy"], r2["isotropy"]);
  EXPECT_EQ(r1["checkpoint"], r2["checkpoint"]);
  // Every alignment report has its terms and movement; HCMA's has the hierarchy.
  const auto h = structlm::load_json((dir / "exp/aligned/hcma-seed1.align/report.json").string());
  EXPECT_EQ(h["hierarchy"]["levels"].size(), 2u);
  EXPECT_FALSE(h["log"].empty());
  for (const char* t : {"nb", "h", "p"}) EXPECT_TRUE(h["log"][0].contains(t)) << t;
  EXPECT_TRUE(fs::exists(dir / "exp/aligned/hcma-seed1.align/log.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "exp/aligned/hcma-seed1.align/report.md"));
}

TEST_F(HcmaExperiment, RawLogsTableAndReportAreWritten) {
  ASSERT_EQ(first.code, 0) << first.out;
  for (const char* f :
       {"rare_recall.jsonl", "attack.jsonl", "movement.jsonl", "loss_by_position.jsonl", "embedding_sample.jsonl", "table.md"})
    EXPECT_GT(fs::file_size(dir / "exp/hcma" / f), 0u) << f;
  std::set<std::string> attacks;
  for (const auto& line : structlm::read_lines((dir / "exp/hcma/attack.jsonl").string()))
    if (!line.empty()) attacks.insert(json::parse(line)["attack"].get<std::string>());
  EXPECT_EQ(attacks, (std::set<std::string>{"random", "gradient_sign", "typo", "hotflip"}));
  const std::string table = structlm::read_file((dir / "exp/hcma/table.md").string());
  EXPECT_NE(table.find("3 seeds"), std::string::npos);
  EXPECT_NE(table.find("rare-token recall@10"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "exp/report.html"));
  const std::string html = structlm::read_file((dir / "exp/report.html").string());
  EXPECT_NE(html.find("recall"), std::string::npos);
  EXPECT_NE(html.find("Relative movement of the input rows"), std::string::npos);
  EXPECT_NE(html.find("Attacked against clean loss at each attack"), std::string::npos);
}

TEST_F(HcmaExperiment, RerunKeepsEverythingAndStandaloneCommandsWork) {
  ASSERT_EQ(first.code, 0) << first.out;
  auto again = run_cli("experiment hcma --quick --out " + (dir / "exp").string() + " --data-dir " + (dir / "data").string());
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(again.out.find("align hcma seed"), std::string::npos) << "a finished alignment ran again";
  EXPECT_EQ(again.out.find("measuring"), std::string::npos) << "a finished measurement ran again";

  // align and eval --suite hcma by hand, on the experiment's model and data.
  const std::string base = (dir / "exp/base").string(), data = (dir / "data").string();
  const std::string out = (dir / "by-hand.safetensors").string();
  auto a = run_cli("align --method hcma --model " + base + " --calib brown --data-dir " + data + " --out " + out +
                   " --set steps=5 --set depth=2 --set branching=2 --set calib_tokens=5000");
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_NE(a.out.find("Hierarchy"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "by-hand.align/report.md"));
  auto ev = run_cli("eval " + out + " --suite hcma --data-dir " + data + " --max-tokens 1000 --frequency-tokens 100000 --json " +
                    (dir / "suite.json").string());
  ASSERT_EQ(ev.code, 0) << ev.out;
  json s = structlm::load_json((dir / "suite.json").string());
  EXPECT_TRUE(s["summary"]["rare_recall10"].is_number());

  // Bad input: a clear message naming what is wrong, exit 1.
  auto bad = run_cli("align --method nope --model " + base + " --calib brown --data-dir " + data + " --out " + out);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("unknown alignment method 'nope'"), std::string::npos) << bad.out;
  auto bad_set = run_cli("align --model " + base + " --calib brown --data-dir " + data + " --out " + out + " --set tau=-1");
  EXPECT_EQ(bad_set.code, 1);
  EXPECT_NE(bad_set.out.find("tau"), std::string::npos) << bad_set.out;
  fs::create_directories(dir / "broken");
  structlm::write_file_atomic((dir / "broken/model.safetensors").string(), "not a checkpoint");
  auto bad_model = run_cli("align --model " + (dir / "broken/model.safetensors").string() + " --tokenizer " +
                           (dir / "exp/tokenizer").string() + " --calib brown --data-dir " + data + " --out " + out);
  EXPECT_EQ(bad_model.code, 1);
  EXPECT_NE(bad_model.out.find("broken/model.safetensors"), std::string::npos) << bad_model.out;
}

// The suite in bf16 against the same suite in fp32 on the experiment's model: the input table's
// geometry (isotropy, IsoScore, WordNet neighbours) is computed outside autocast, so it is the
// same to the last bit; what runs the model moves by bf16's rounding only; and the result says
// which precision ran.
TEST_F(HcmaExperiment, SuiteInBf16MatchesFp32) {
  ASSERT_EQ(first.code, 0) << first.out;
  const std::string base = (dir / "exp/base").string(), data = (dir / "data").string();
  std::map<std::string, json> s;
  for (const std::string p : {"fp32", "bf16"}) {
    const auto path = (dir / ("suite-" + p + ".json")).string();
    auto ev = run_cli("eval " + base + " --suite hcma --precision " + p + " --data-dir " + data +
                      " --max-tokens 2000 --frequency-tokens 100000 --json " + path);
    ASSERT_EQ(ev.code, 0) << ev.out;
    EXPECT_NE(ev.out.find("precision " + p), std::string::npos) << ev.out;
    s[p] = structlm::load_json(path);
    EXPECT_EQ(s[p]["precision"], p);
  }
  const auto &a = s["fp32"], &b = s["bf16"];
  EXPECT_EQ(a["isotropy"], b["isotropy"]);
  EXPECT_EQ(a["isoscore"], b["isoscore"]);
  EXPECT_EQ(a["wordnet"], b["wordnet"]);
  // bf16 really ran: the loss of some bucket differs; and by little: within 2 % of the loss.
  bool differs = false;
  ASSERT_EQ(a["recall"].size(), b["recall"].size());
  for (std::size_t i = 0; i < a["recall"].size(); ++i) {
    if (!a["recall"][i]["loss"].is_number()) continue;
    const double la = a["recall"][i]["loss"], lb = b["recall"][i]["loss"];
    differs = differs || la != lb;
    EXPECT_NEAR(lb, la, 0.02 * la) << a["recall"][i]["bucket"];
  }
  EXPECT_TRUE(differs) << "bf16 left every loss bit-identical: autocast did not run";
  const double sa = a["stability"]["self_similarity"], sb = b["stability"]["self_similarity"];
  EXPECT_NEAR(sb, sa, 0.02);
}

}  // namespace
