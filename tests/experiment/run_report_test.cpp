// The report with `structlm train`'s config reader (experiment/run_report.h): configs written by
// two builds, one leaving out a key the other writes at its default, are one configuration; an
// experiment's NAME-seedN runs are labelled NAME, with the settings that differ in a legend.
#include <gtest/gtest.h>

#include "core/io.h"
#include "core/json.h"
#include "experiment/run_report.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// As read from a file: parsed, so the seed is an unsigned number as the config reader expects.
json small_config(int seed) {
  const json c = {{"model", {{"vocab_size", 64}, {"block_size", 16}, {"n_layer", 2}, {"n_head", 2}, {"n_embd", 32}}},
                  {"train", {{"seed", seed}, {"max_steps", 20}}},
                  {"data", {{"train_shards", {"data/x/tokens-ab/train.bin"}}, {"tokenizer", "tok"}}}};
  return json::parse(c.dump());
}

void write_run(const std::string& dir, const json& config, double final_loss) {
  make_dirs(dir);
  write_file_atomic(dir + "/config.json", config.dump(2));
  write_file_atomic(dir + "/metrics.jsonl", json{{"step", 10}, {"loss", 4.0}}.dump() + "\n" +
                                                json{{"step", 20}, {"loss", final_loss}}.dump() + "\n");
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(RunReport, FullRunConfigFillsEveryDefault) {
  json older = small_config(1), newer = small_config(1);
  newer["train"]["keep_steps"] = json::array();  // what a newer build writes, at its default
  newer["model"]["dropout"] = 0.0;
  const json a = experiment::full_run_config(older, "older/config.json");
  EXPECT_EQ(a, experiment::full_run_config(newer, "newer/config.json"));
  EXPECT_EQ(a["train"]["keep_steps"], json::array());
  EXPECT_EQ(a["train"]["lr"], 1e-3);  // train.lr's default, absent from the file
  EXPECT_EQ(a["model"]["cstde"]["attention"], false) << "CSTDE's section spelled out even where it is off";
  json bad = small_config(1);
  bad["train"]["no_such_key"] = 1;
  EXPECT_TRUE(contains(error_of([&] { experiment::full_run_config(bad, "bad/config.json"); }), "bad/config.json"));
}

TEST(RunReport, SeedsGroupAcrossBuildsAndExperimentRunsAreLabelledByName) {
  TempDir t;
  json with_keep = small_config(2);
  with_keep["train"]["keep_steps"] = json::array();
  write_run(t / "runs/baseline-seed1", small_config(1), 3.0);
  write_run(t / "runs/baseline-seed2", with_keep, 3.2);
  json att1 = small_config(1), att2 = with_keep;
  att1["model"]["cstde"] = {{"attention", true}};
  att2["model"]["cstde"] = {{"attention", true}};
  write_run(t / "runs/attention-seed1", att1, 2.8);
  write_run(t / "runs/attention-seed2", att2, 2.9);
  const auto files = experiment::write_run_report({t / "runs/baseline-seed1", t / "runs/baseline-seed2",
                                                   t / "runs/attention-seed1", t / "runs/attention-seed2"},
                                                  t / "out");
  const std::string md = read_file(files.markdown);
  // Final train loss 3.0, 3.2 -> 3.1 ± 0.1414; 2.8, 2.9 -> 2.85 ± 0.0707.
  EXPECT_TRUE(contains(md, "| baseline | 2 (1, 2) | 20 ± 0 (2 seeds) | 3.1000 ± 0.1414 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| attention | 2 (1, 2) | 20 ± 0 (2 seeds) | 2.8500 ± 0.0707 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| baseline | baseline-seed1, baseline-seed2 | model.cstde.attention=false |")) << md;
  EXPECT_TRUE(contains(md, "| attention | attention-seed1, attention-seed2 | model.cstde.attention=true |")) << md;
  EXPECT_FALSE(contains(md, "keep_steps")) << md;
}
