// Grouping runs by config with defaults filled in, the labels of groups (the settings that differ,
// or NAME for an experiment's NAME-seedN run directories), CSTDE's path over training (mean |beta|,
// mean gamma, entropy of D) and the "Regenerate with" command line. Synthetic runs, numbers by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "support/temp_dir.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "report/document.h"
#include "report/report.h"
#include "report/run_dir.h"
#include "report/sections.h"
#include "synthetic_logs.h"

using namespace structlm;
using namespace structlm::report;
using structlm::test_report::contains;
using structlm::test_util::TempDir;

namespace {

// Sets `key` (a path of object keys) in DIR/config.json.
void set_config(const std::string& dir, const std::vector<std::string>& key, const json& value) {
  json c = load_json(dir + "/config.json");
  json* at = &c;
  for (const auto& k : key) at = &(*at)[k];
  *at = value;
  test_report::write_text(dir + "/config.json", c.dump(2));
}

// A stand-in for `structlm train`'s reader (the real one is experiment::full_run_config, tested in
// tests/experiment): every key it knows that the config leaves out gets its default.
json fill_defaults(const json& config, const std::string& path) {
  static const json defaults = {{"model", {{"dropout", 0.0}, {"n_layer", 4}, {"n_embd", 256}}},
                                {"train", {{"keep_steps", json::array()}, {"lr", 1e-3}, {"seed", 1337}}},
                                {"data", {{"tokenizer", ""}, {"train_shards", json::array()}}}};
  json full = defaults;
  for (auto section = config.begin(); section != config.end(); ++section) {
    if (!defaults.contains(section.key())) throw Error(path + ": unknown field '" + section.key() + "'");
    for (auto it = section->begin(); it != section->end(); ++it) full[section.key()][it.key()] = it.value();
  }
  return full;
}

std::vector<RunData> load_all(const std::vector<std::string>& dirs, const ConfigReader& read = {}) {
  std::vector<RunData> runs;
  for (const auto& d : dirs) runs.push_back(load_run(d, read));
  return runs;
}

// A CSTDE run (model.cstde.attention true): train loss at steps 10 and 20, and at each an
// evaluation line with val_loss and the path: prior_weight (mean |beta|), carry_gate (mean gamma),
// d_entropy. `steps` evaluation lines (1: the run stopped after step 10).
void write_cstde_run(const std::string& dir, int seed, const double pw[2], const double cg[2], const double de[2],
                     int steps = 2) {
  test_report::write_train_run(dir, 2, seed, 4.0, 3.0, 3.1);
  set_config(dir, {"model", "cstde"}, {{"attention", true}});
  std::ostringstream m;
  for (int i = 0; i < steps; ++i)
    m << json{{"step", 10 * (i + 1)},   {"loss", 4.0 - i},       {"val_loss", 4.1 - i},     {"tokens_per_s", 1000.0},
              {"prior_weight", pw[i]}, {"carry_gate", cg[i]},   {"d_entropy", de[i]},      {"elapsed_s", 1.0 + i}}
             .dump()
      << "\n";
  test_report::write_text(dir + "/metrics.jsonl", m.str());
}

const Section* section(const Document& d, const std::string& id) {
  for (const auto& s : d.sections)
    if (s.id == id) return &s;
  return nullptr;
}

}  // namespace

TEST(ReportGroups, KeyAbsentInOneConfigAndAtItsDefaultInAnotherIsOneGroup) {
  TempDir t;
  test_report::write_train_run(t / "a", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "b", 2, 2, 4.1, 3.2, 3.3);
  // A newer build writes keys the older one did not, at their defaults: train.keep_steps [] and
  // model.dropout 0.0 in b only. Any key with a default, not one in particular.
  set_config(t / "b", {"train", "keep_steps"}, json::array());
  set_config(t / "b", {"model", "dropout"}, 0.0);

  // As written, they differ; through the reader, only in the seed.
  EXPECT_EQ(group_runs(load_all({t / "a", t / "b"})).size(), 2u);
  auto runs = load_all({t / "a", t / "b"}, fill_defaults);
  EXPECT_EQ(runs[0].group_key(), runs[1].group_key());
  EXPECT_EQ(runs[0].full_config["train"]["keep_steps"], json::array());
  EXPECT_FALSE(runs[0].config["train"].contains("keep_steps")) << "config stays as written";
  auto groups = group_runs(runs);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].label, "all runs");

  // The table averages both seeds: train loss 3.0, 3.2 -> 3.1 ± 0.1414.
  const std::string md = to_markdown(build_report({t / "a", t / "b"}, {fill_defaults, ""}));
  EXPECT_TRUE(contains(md, "| all runs | 2 (1, 2) | 20 ± 0 (2 seeds) | 3.1000 ± 0.1414 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "configs compared with every default filled in")) << md;

  // A value that is not the default still splits them, labelled by the keys that differ.
  set_config(t / "b", {"train", "keep_steps"}, {10});
  groups = group_runs(load_all({t / "a", t / "b"}, fill_defaults));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].label, "train.keep_steps=[]");
  EXPECT_EQ(groups[1].label, "train.keep_steps=[10]");
}

TEST(ReportGroups, ConfigTheReaderRefusesIsComparedAsWrittenWithANote) {
  TempDir t;
  test_report::write_train_run(t / "a", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "b", 2, 2, 4.1, 3.2, 3.3);
  set_config(t / "b", {"future", "x"}, 1);  // written by a build that knows a section this one does not
  auto runs = load_all({t / "a", t / "b"}, fill_defaults);
  EXPECT_TRUE(contains(runs[1].config_note, "unknown field 'future'")) << runs[1].config_note;
  EXPECT_EQ(runs[1].full_config, runs[1].config);
  const std::string md = to_markdown(build_report({t / "a", t / "b"}, {fill_defaults, ""}));
  EXPECT_TRUE(contains(md, "Config of b compared as written, not as structlm train reads it: " + (t / "b") +
                               "/config.json: unknown field 'future'"))
      << md;
}

TEST(ReportGroups, LabelsAreTheSettingsThatDifferBetweenGroups) {
  TempDir t;
  for (int seed : {1, 2}) {
    test_report::write_train_run(t / ("p" + std::to_string(seed)), 2, seed, 4.0, 3.0, 3.1);
    test_report::write_train_run(t / ("q" + std::to_string(seed)), 2, seed, 4.0, 3.0, 3.1);
    set_config(t / ("q" + std::to_string(seed)), {"model", "cstde"}, {{"attention", true}, {"beta_init", 0.5}});
  }
  // p leaves model.cstde out; the reader here knows no cstde defaults, so p's values read "(unset)".
  auto runs = load_all({t / "p1", t / "p2", t / "q1", t / "q2"});
  auto groups = group_runs(runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].label, "model.cstde.attention=(unset), model.cstde.beta_init=(unset)");
  EXPECT_EQ(groups[1].label, "model.cstde.attention=true, model.cstde.beta_init=0.5");
  EXPECT_EQ(groups[1].settings, groups[1].label);
  // data.train_shards, shared by every group, is in no label; no legend is needed.
  const Document d = build_report({t / "p1", t / "p2", t / "q1", t / "q2"});
  EXPECT_EQ(section(d, "configurations"), nullptr);
  EXPECT_FALSE(contains(to_markdown(d), "| data.train_shards")) << to_markdown(d);
}

TEST(ReportGroups, ExperimentRunDirectoriesAreLabelledByName) {
  TempDir t;
  test_report::write_train_run(t / "baseline-seed1", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "baseline-seed2", 2, 2, 4.1, 3.2, 3.3);
  test_report::write_train_run(t / "deep-seed1", 4, 1, 3.9, 2.9, 3.0);
  const std::vector<std::string> dirs = {t / "baseline-seed1", t / "baseline-seed2", t / "deep-seed1"};
  auto runs = load_all(dirs);
  auto groups = group_runs(runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].label, "baseline");
  EXPECT_EQ(groups[0].settings, "model.n_layer=2");
  EXPECT_EQ(groups[1].label, "deep");
  EXPECT_EQ(groups[1].settings, "model.n_layer=4");

  auto files = write_report(dirs, t / "out");
  const std::string md = read_file(files.markdown), html = read_file(files.html);
  EXPECT_TRUE(contains(md, "## Configurations")) << md;
  EXPECT_TRUE(contains(md, "| baseline | baseline-seed1, baseline-seed2 | model.n_layer=2 |")) << md;
  EXPECT_TRUE(contains(md, "| deep | deep-seed1 | model.n_layer=4 |")) << md;
  EXPECT_TRUE(contains(md, "| baseline | 2 (1, 2) | 20 ± 0 (2 seeds) | 3.1000 ± 0.1414 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "Config of baseline (baseline-seed1, baseline-seed2;")) << md;
  // The plots' legends carry the same labels (gnuplot writes each title as SVG text).
  EXPECT_TRUE(contains(html, ">baseline</tspan>") || contains(html, ">baseline</text>")) << html.substr(0, 3000);
  EXPECT_TRUE(contains(html, ">deep</tspan>") || contains(html, ">deep</text>"));
}

TEST(ReportGroups, NamesThatDoNotIdentifyAGroupFallBackToSettings) {
  TempDir t;
  // One config under two names: no single NAME for the group.
  test_report::write_train_run(t / "x-seed1", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "y-seed2", 2, 2, 4.0, 3.0, 3.1);
  // Two configs under one name (two experiments' baselines): NAME would not tell them apart.
  test_report::write_train_run(t / "e1/base-seed1", 4, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "e2/base-seed1", 6, 1, 4.0, 3.0, 3.1);
  auto runs = load_all({t / "x-seed1", t / "y-seed2", t / "e1/base-seed1", t / "e2/base-seed1"});
  auto groups = group_runs(runs);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].label, "model.n_layer=2");
  EXPECT_EQ(groups[1].label, "model.n_layer=4");
  EXPECT_EQ(groups[2].label, "model.n_layer=6");
}

TEST(ReportGroups, ExperimentRunName) {
  EXPECT_EQ(experiment_run_name("attention-seed2"), "attention");
  EXPECT_EQ(experiment_run_name("beta0.5_lr10-seed12"), "beta0.5_lr10");
  EXPECT_EQ(experiment_run_name("a-seed-seed3"), "a-seed");
  EXPECT_EQ(experiment_run_name("seed1"), "");
  EXPECT_EQ(experiment_run_name("-seed1"), "");
  EXPECT_EQ(experiment_run_name("a-seed"), "");
  EXPECT_EQ(experiment_run_name("a-seed1x"), "");
  EXPECT_EQ(experiment_run_name("a1"), "");
}

TEST(ReportGroups, CstdePathOverTrainingByConfiguration) {
  TempDir t;
  // Seeds 1 and 2 of "attention"; the baseline logs no path and is absent from it.
  const double pw1[2] = {0.2, 0.5}, cg1[2] = {0.45, 0.4}, de1[2] = {3.0, 2.0};
  const double pw2[2] = {0.4, 0.7}, cg2[2] = {0.55, 0.5}, de2[2] = {2.8, 2.4};
  write_cstde_run(t / "attention-seed1", 1, pw1, cg1, de1);
  write_cstde_run(t / "attention-seed2", 2, pw2, cg2, de2);
  test_report::write_train_run(t / "baseline-seed1", 2, 1, 4.0, 3.0, 3.1);
  const std::vector<std::string> dirs = {t / "baseline-seed1", t / "attention-seed1", t / "attention-seed2"};
  auto runs = load_all(dirs);
  auto groups = group_runs(runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].label, "attention");

  // The curves, by hand: mean |beta| at step 10 (0.2 + 0.4) / 2 = 0.3, sd 0.1414; at 20 0.6, sd 0.1414.
  auto pw = metric_curves(groups, &MetricLine::prior_weight);
  ASSERT_EQ(pw.size(), 1u);
  EXPECT_EQ(pw[0].group, "attention");
  ASSERT_EQ(pw[0].x, (std::vector<double>{10, 20}));
  EXPECT_NEAR(pw[0].y[0].mean, 0.3, 1e-12);
  EXPECT_NEAR(pw[0].y[1].mean, 0.6, 1e-12);
  EXPECT_NEAR(pw[0].y[1].sd, std::sqrt(0.02), 1e-12);
  EXPECT_EQ(pw[0].y[1].n, 2);
  auto cg = metric_curves(groups, &MetricLine::carry_gate);
  ASSERT_EQ(cg.size(), 1u);
  EXPECT_NEAR(cg[0].y[0].mean, 0.5, 1e-12);
  EXPECT_NEAR(cg[0].y[1].mean, 0.45, 1e-12);
  auto de = metric_curves(groups, &MetricLine::d_entropy);
  ASSERT_EQ(de.size(), 1u);
  EXPECT_NEAR(de[0].y[0].mean, 2.9, 1e-12);
  EXPECT_NEAR(de[0].y[1].mean, 2.2, 1e-12);

  const Document d = build_report(dirs);
  const Section* training = section(d, "training");
  ASSERT_NE(training, nullptr);
  const Plot* path = nullptr;
  for (const auto& b : training->blocks)
    if (b.kind == Block::plot && contains(b.fig.caption, "CSTDE over training")) path = &b.fig;
  ASSERT_NE(path, nullptr);
  for (const char* panel : {"Prior weight: mean |β| over heads", "Carry gate: mean γ over layers", "Entropy of D"})
    EXPECT_TRUE(contains(path->svg, panel)) << panel;
  EXPECT_TRUE(contains(path->svg, ">attention<")) << "the configuration's label in the legend";
  EXPECT_FALSE(contains(path->svg, ">baseline<")) << "no path logged, no line";

  // Final values, by hand: |beta| 0.5, 0.7 -> 0.6 ± 0.1414; gamma 0.4, 0.5 -> 0.45 ± 0.0707;
  // entropy 2.0, 2.4 -> 2.2 ± 0.2828. The baseline has no row.
  const std::string md = to_markdown(d);
  EXPECT_TRUE(contains(md, "**CSTDE at the end of training by configuration (last logged value of each run)**\n\n"
                           "| configuration | seeds | step | mean \\|β\\| | mean γ | entropy of D (nats) |\n"
                           "| --- | ---: | ---: | ---: | ---: | ---: |\n"
                           "| attention | 2 (1, 2) | 20 ± 0 (2 seeds) | 0.6000 ± 0.1414 (2 seeds) | "
                           "0.4500 ± 0.0707 (2 seeds) | 2.2000 ± 0.2828 (2 seeds) |\n\n"))
      << md;
}

TEST(ReportGroups, CstdePathKeepsStepsEverySeedLogged) {
  TempDir t;
  const double pw1[2] = {0.2, 0.5}, cg1[2] = {0.45, 0.4}, de1[2] = {3.0, 2.0};
  const double pw2[2] = {0.4, 0.7}, cg2[2] = {0.55, 0.5}, de2[2] = {2.8, 2.4};
  write_cstde_run(t / "a-seed1", 1, pw1, cg1, de1);
  write_cstde_run(t / "a-seed2", 2, pw2, cg2, de2, 1);  // stopped after step 10
  auto runs = load_all({t / "a-seed1", t / "a-seed2"});
  auto groups = group_runs(runs);
  auto pw = metric_curves(groups, &MetricLine::prior_weight);
  ASSERT_EQ(pw.size(), 1u);
  ASSERT_EQ(pw[0].x, (std::vector<double>{10}));
  EXPECT_NEAR(pw[0].y[0].mean, 0.3, 1e-12);
  // Final values are each run's last: 0.5 at step 20 and 0.4 at step 10 -> 0.45 ± 0.0707, steps 15 ± 7.
  const std::string md = to_markdown(build_report({t / "a-seed1", t / "a-seed2"}));
  EXPECT_TRUE(contains(md, "| all runs | 2 (1, 2) | 15 ± 7 (2 seeds) | 0.4500 ± 0.0707 (2 seeds) |")) << md;
}

TEST(ReportGroups, NoCstdePathWithoutItsFields) {
  TempDir t;
  test_report::write_train_run(t / "a", 2, 1, 4.0, 3.0, 3.1);
  const std::string md = to_markdown(build_report({t / "a"}));
  EXPECT_FALSE(contains(md, "CSTDE over training")) << md;
  EXPECT_FALSE(contains(md, "CSTDE at the end of training")) << md;
}

TEST(ReportGroups, ShellQuote) {
  EXPECT_EQ(shell_quote("runs/cstde-e2/beta0.5_lr10-seed1"), "runs/cstde-e2/beta0.5_lr10-seed1");
  EXPECT_EQ(shell_quote("my runs/a"), "'my runs/a'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("a;b$c*"), "'a;b$c*'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ReportGroups, RegenerateLineIsAShellCommand) {
  TempDir t;
  const std::string odd = t / "it's a run", plain = t / "b";
  test_report::write_train_run(odd, 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(plain, 2, 2, 4.0, 3.0, 3.1);
  auto regenerate = [](const Document& d) {
    for (const auto& p : d.intro)
      if (p.rfind("Regenerate with: ", 0) == 0) return p.substr(17);
    return std::string();
  };
  const std::string cmd = regenerate(build_report({odd, plain}, {{}, t / "out"}));
  EXPECT_EQ(cmd, "structlm report '" + t.path() + "/it'\\''s a run' " + plain + " --out " + (t / "out"));
  // The shell splits it back into exactly the words given.
  auto words = run_process({"sh", "-c", "printf '%s\\n' " + cmd.substr(std::string("structlm report ").size())});
  ASSERT_EQ(words.exit_code, 0) << words.err;
  EXPECT_EQ(words.out, odd + "\n" + plain + "\n--out\n" + (t / "out") + "\n");
  // Writing into the first run directory (the default) needs no --out.
  EXPECT_EQ(regenerate(build_report({plain, odd}, {{}, plain})), "structlm report " + plain + " '" + t.path() +
                                                                     "/it'\\''s a run'");
  EXPECT_EQ(regenerate(build_report({plain})), "structlm report " + plain);
}
