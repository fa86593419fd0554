// The typed experiment sections: the shipped configs read back with the values they hold; every
// kind of mistake a user makes in one (a typo in a key at any depth, a wrong type, a value out of
// range, a bad variant or method) is refused naming the file and the key path.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "core/io.h"
#include "experiment/experiment_config.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::experiment;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const std::string kConfigs = std::string(STRUCTLM_SOURCE_DIR) + "/configs/";

// The error of loading `j` (written to a file) as `kind`; empty when it loads.
std::string load_error(const json& j, const std::string& kind) {
  TempDir t;
  const std::string f = t / "cfg.json";
  save_json(f, j);
  try {
    if (kind == "cstde") load_cstde_config(f);
    else if (kind == "hcma") load_hcma_config(f);
    else load_demo_config(f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(ExperimentConfig, ShippedConfigsReadBackTheirValues) {
  auto c = load_cstde_config(kConfigs + "cstde_quick.json");
  EXPECT_EQ(c.section.train_corpora, std::vector<std::string>{"brown"});
  EXPECT_EQ(c.section.vocab_size, 512u);
  EXPECT_EQ(c.section.seeds, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(c.section.eval_max_tokens, 4000u);
  EXPECT_EQ(c.section.link_sentences, 24u);
  EXPECT_EQ(c.section.sample.decoder.max_new_tokens, 24);
  EXPECT_EQ(c.section.sample.seeds, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(c.section.variants.contains("nocarry"));

  auto h = load_hcma_config(kConfigs + "hcma_quick.json", 2);
  EXPECT_EQ(h.section.seeds, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(h.section.calibration, "brown");
  EXPECT_EQ(h.section.suite.long_corpus, "kjv");
  EXPECT_EQ(h.section.suite.eps, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(h.section.align.at("steps"), 15);

  auto d = load_demo_config(kConfigs + "demo.json");
  EXPECT_FALSE(d.section.prompts.empty());
  EXPECT_GT(d.section.train_minutes, 0);

  // Every shipped experiment config loads.
  for (const char* f : {"cstde.json", "cstde_overhead.json", "cstde_e1.json", "cstde_e2.json"}) EXPECT_NO_THROW(load_cstde_config(kConfigs + f)) << f;
  for (const char* f : {"hcma.json", "hcma_explore.json", "hcma_mix.json"}) EXPECT_NO_THROW(load_hcma_config(kConfigs + f)) << f;
  // The mix config (issue 15 item 1): the base model is kept at 1/16, 1/4 and the whole budget.
  auto m = load_hcma_config(kConfigs + "hcma_mix.json");
  EXPECT_EQ(m.section.train_corpora, std::vector<std::string>{"mix"});
  EXPECT_EQ(m.section.calibration, "mix");
  EXPECT_EQ(m.section.base_steps, (std::vector<std::int64_t>{800, 3200, 12800}));
}

// E1's learning-rate sweep: the shipped list reads back; one rate, a repeated rate, a rate <= 0 and
// more choosing seeds than the experiment has are refused naming the key; --seeds below
// lr_sweep_seeds chooses on the seeds kept.
TEST(ExperimentConfig, LearningRateSweepIsCheckedWhenRead) {
  auto e1 = load_cstde_config(kConfigs + "cstde_e1.json");
  EXPECT_EQ(e1.section.lr_sweep, (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
  EXPECT_EQ(e1.section.lr_sweep_seeds, 1u);
  EXPECT_TRUE(load_cstde_config(kConfigs + "cstde_quick.json").section.lr_sweep.empty());

  json cstde = load_json(kConfigs + "cstde_quick.json");
  for (const json& bad : {json::array({0.001}), json::array({0.001, 0.001}), json::array({0.001, -0.002}),
                          json::array({0.001, 0.0})}) {
    json j = cstde;
    j["experiment"]["lr_sweep"] = bad;
    const auto e = load_error(j, "cstde");
    EXPECT_TRUE(has(e, "cfg.json") && has(e, "lr_sweep") && has(e, "two or more distinct")) << bad.dump() << ": " << e;
  }
  json j = cstde;
  j["experiment"]["lr_sweep"] = {0.001, 0.002};
  EXPECT_EQ(load_error(j, "cstde"), "");
  j["experiment"]["lr_sweep_seeds"] = 4;  // the quick config has 3 seeds
  auto e = load_error(j, "cstde");
  EXPECT_TRUE(has(e, "cfg.json") && has(e, "lr_sweep_seeds") && has(e, "4 seeds")) << e;
  j["experiment"]["lr_sweep_seeds"] = 0;
  e = load_error(j, "cstde");
  EXPECT_TRUE(has(e, "lr_sweep_seeds")) << e;
  j["experiment"]["lr_sweep_seeds"] = 3;
  TempDir t;
  save_json(t / "c.json", j);
  EXPECT_EQ(load_cstde_config(t / "c.json", 2).section.lr_sweep_seeds, 2u);  // --seeds 2
}

// experiment.contrasts (issue 14, second round): [variant, reference] pairs of the config's variants
// read back in order; absent is none; a name that is no variant, a variant with itself, the
// baseline, a pair listed twice (or reversed), a pair of three names or a wrong type are refused
// naming the file and the key.
TEST(ExperimentConfig, ContrastsNameTwoDistinctVariantsOnce) {
  json cstde = load_json(kConfigs + "cstde_quick.json");
  EXPECT_TRUE(load_cstde_config(kConfigs + "cstde_quick.json").section.contrasts.empty());
  // Lists of string lists (a braced list of two-string lists would make a JSON object).
  using Pairs = std::vector<std::vector<std::string>>;
  json j = cstde;
  j["experiment"]["contrasts"] = Pairs{{"both", "attention"}, {"attention", "init"}};
  TempDir t;
  save_json(t / "c.json", j);
  EXPECT_EQ(load_cstde_config(t / "c.json").section.contrasts,
            (Pairs{{"both", "attention"}, {"attention", "init"}}));
  auto error_with = [&](const json& contrasts) {
    json k = cstde;
    k["experiment"]["contrasts"] = contrasts;
    return load_error(k, "cstde");
  };
  auto e = error_with(Pairs{{"attention", "recency"}});  // the quick config has no recency arm
  EXPECT_TRUE(has(e, "cfg.json (experiment.contrasts[0])") && has(e, "names no variant of experiment.variants: 'recency'"))
      << e;
  e = error_with(Pairs{{"both", "attention"}, {"init", "init"}});
  EXPECT_TRUE(has(e, "cfg.json (experiment.contrasts[1])") && has(e, "compares 'init' with itself")) << e;
  e = error_with(Pairs{{"both", "attention"}, {"init", "both"}, {"both", "attention"}});
  EXPECT_TRUE(has(e, "cfg.json (experiment.contrasts[2])") && has(e, "repeats contrasts[0]")) << e;
  e = error_with(Pairs{{"both", "attention"}, {"attention", "both"}});  // the same comparison reversed
  EXPECT_TRUE(has(e, "(experiment.contrasts[1])") && has(e, "repeats contrasts[0]")) << e;
  e = error_with(Pairs{{"both", "baseline"}});  // the baseline comparison itself, counted twice
  EXPECT_TRUE(has(e, "cfg.json (experiment.contrasts[0])") && has(e, "names the baseline")) << e;
  e = error_with(Pairs{{"both", "attention", "init"}});
  EXPECT_TRUE(has(e, "cfg.json") && has(e, "'contrasts' must be a list of [variant, reference] pairs")) << e;
  e = error_with({"both", "attention"});
  EXPECT_TRUE(has(e, "cfg.json") && has(e, "'contrasts' has the wrong type")) << e;
  EXPECT_EQ(error_with(json::array()), "");
}

// experiment.primary_metrics (issue 14, third round), in both sections: distinct metric keys of
// the experiment's catalogue; an unknown key is refused naming it and listing the known ones. A
// CSTDE "*_ppl"/"*_bpb" key may name an eval corpus given by path, checked when the experiment starts.
TEST(ExperimentConfig, PrimaryMetricsAreDistinctKeysOfTheCatalogue) {
  using Strings = std::vector<std::string>;
  EXPECT_TRUE(load_cstde_config(kConfigs + "cstde_quick.json").section.primary_metrics.empty());
  EXPECT_TRUE(load_hcma_config(kConfigs + "hcma_quick.json").section.primary_metrics.empty());
  for (const std::string kind : {"cstde", "hcma"}) {
    const json base = load_json(kConfigs + kind + "_quick.json");
    const Strings good = kind == "cstde" ? Strings{"val_loss", "brown_bpb"} : Strings{"rare_recall10", "ppl"};
    json j = base;
    j["experiment"]["primary_metrics"] = good;
    TempDir t;
    save_json(t / "c.json", j);
    EXPECT_EQ(kind == "cstde" ? load_cstde_config(t / "c.json").section.primary_metrics
                              : load_hcma_config(t / "c.json").section.primary_metrics,
              good);
    auto error_with = [&](const json& keys) {
      json k = base;
      k["experiment"]["primary_metrics"] = keys;
      return load_error(k, kind);
    };
    auto e = error_with(Strings{good[0], "val_los"});
    EXPECT_TRUE(has(e, "cfg.json (experiment.primary_metrics[1])") &&
                has(e, "'val_los' is not a metric key of this experiment (known: ") && has(e, good[0] + ", "))
        << e;
    e = error_with(Strings{good[0], good[1], good[0]});
    EXPECT_TRUE(has(e, "cfg.json (experiment.primary_metrics[2])") && has(e, "is listed twice (primary_metrics[0])")) << e;
    e = error_with(Strings{""});
    EXPECT_TRUE(has(e, "cfg.json") && has(e, "'primary_metrics' must be a list of non-empty metric keys")) << e;
    e = error_with("val_loss");
    EXPECT_TRUE(has(e, "cfg.json") && has(e, "'primary_metrics' has the wrong type")) << e;
    EXPECT_EQ(error_with(json::array()), "");
  }
  // A corpus given by path is named by the workspace: its keys wait for the experiment's start.
  json j = load_json(kConfigs + "cstde_quick.json");
  j["experiment"]["primary_metrics"] = Strings{"my_corpus_bpb"};
  EXPECT_EQ(load_error(j, "cstde"), "");
}

TEST(ExperimentConfig, TyposAtAnyDepthAreRefusedByName) {
  json cstde = load_json(kConfigs + "cstde_quick.json");
  EXPECT_EQ(load_error(cstde, "cstde"), "");
  // The two examples: a misspelt key, and a key nobody reads.
  for (const char* bad : {"eval_max_token", "varaints_typo"}) {
    json j = cstde;
    j["experiment"][bad] = 1;
    const auto e = load_error(j, "cstde");
    EXPECT_TRUE(has(e, "cfg.json") && has(e, bad)) << e;
  }
  json j = cstde;
  j["experiment"]["sample"]["top_kk"] = 3;
  auto e = load_error(j, "cstde");
  EXPECT_TRUE(has(e, "(experiment.sample)") && has(e, "top_kk")) << e;
  j = cstde;
  j["experiment"]["variants"]["init"]["inti"] = true;  // a cstde switch nobody reads
  e = load_error(j, "cstde");
  EXPECT_TRUE(has(e, "experiment.variants.init") && has(e, "inti")) << e;
  j = cstde;
  j["experimnet"] = j["experiment"];  // a top-level typo
  EXPECT_TRUE(has(load_error(j, "cstde"), "experimnet"));

  json hcma = load_json(kConfigs + "hcma_quick.json");
  EXPECT_EQ(load_error(hcma, "hcma"), "");
  j = hcma;
  j["experiment"]["suite"]["kv_trails"] = 5;
  e = load_error(j, "hcma");
  EXPECT_TRUE(has(e, "(experiment.suite)") && has(e, "kv_trails")) << e;
  j = hcma;
  j["experiment"]["align"]["stpes"] = 5;
  e = load_error(j, "hcma");
  EXPECT_TRUE(has(e, "stpes")) << e;
  j = hcma;
  j["experiment"]["methods"]["abtt"]["componets"] = 2;
  e = load_error(j, "hcma");
  EXPECT_TRUE(has(e, "experiment.methods.abtt") && has(e, "componets")) << e;

  json demo = load_json(kConfigs + "demo.json");
  EXPECT_EQ(load_error(demo, "demo"), "");
  j = demo;
  j["demo"]["sample"]["seeds"] = {1};  // the demo's sampler takes one seed
  e = load_error(j, "demo");
  EXPECT_TRUE(has(e, "(demo.sample)") && has(e, "seeds")) << e;
}

TEST(ExperimentConfig, WrongTypesAndValuesAreRefused) {
  json cstde = load_json(kConfigs + "cstde_quick.json");
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = cstde;
    edit(j);
    return load_error(j, "cstde");
  };
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["vocab_size"] = "big"; }), "'vocab_size' has the wrong type"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["vocab_size"] = 100; }), "'vocab_size' must be > 256"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["seeds"] = {-1}; }), "non-negative"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["seeds"] = json::array(); }), "'seeds' must be a non-empty list"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"].erase("seeds"); }), "'seeds' must be a non-empty list"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"].erase("train_corpora"); }), "'train_corpora' must be a non-empty list"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["prompts"] = {1, 2}; }), "'prompts' has the wrong type"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["variants"].erase("baseline"); }), "'baseline'"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["variants"]["init"] = 3; }), "experiment.variants.init"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["sample"]["top_p"] = 1.5; }), "'top_p' must be in (0, 1]"));
  EXPECT_TRUE(has(with([](json& j) { j["experiment"]["sample"] = 3; }), "'sample' must be a JSON object"));
  EXPECT_TRUE(has(with([](json& j) { j.erase("experiment"); }), "missing the 'experiment' section"));

  json hcma = load_json(kConfigs + "hcma_quick.json");
  json j = hcma;
  j["experiment"]["suite"]["split"] = "dev";
  EXPECT_TRUE(has(load_error(j, "hcma"), "'split' must be train, val or test"));
  j = hcma;
  j["experiment"]["methods"] = json::object();
  EXPECT_TRUE(has(load_error(j, "hcma"), "'methods' must be a non-empty object"));

  // --seeds N: the first N, and no more than the config lists.
  EXPECT_EQ(load_cstde_config(kConfigs + "cstde_quick.json", 1).section.seeds, std::vector<std::int64_t>{1});
  EXPECT_TRUE(has(error_of([] { load_cstde_config(kConfigs + "cstde_quick.json", 4); }), "--seeds 4 but the config lists 3"));
}

TEST(ExperimentConfig, HelpListsEveryKeyOfEachSection) {
  const auto h = experiment_config_help("cstde");
  for (const char* k : {"experiment.variants", "experiment.eval_max_tokens", "experiment.contrasts", "experiment.primary_metrics",
                        "experiment.sample.top_k",
                        "experiment.sample.seeds"})
    EXPECT_TRUE(has(h, k)) << k << "\n" << h;
  EXPECT_TRUE(has(experiment_config_help("hcma"), "experiment.suite.kv_trials"));
  EXPECT_TRUE(has(experiment_config_help("hcma"), "experiment.primary_metrics"));
  EXPECT_TRUE(has(experiment_config_help("demo"), "demo.sample.seed"));
  EXPECT_TRUE(has(error_of([] { experiment_config_help("nope"); }), "cstde, hcma or demo"));
}

// experiment.base_fractions (issue 15, item 1): increasing fractions in (0, 1], each resolved to
// the step max(1, round(f x train.max_steps)) by hand; two on one step, or out of range, refused.
TEST(ExperimentConfig, BaseFractionsResolveToStepsAndAreChecked) {
  TempDir t;
  json hcma = load_json(kConfigs + "hcma_quick.json");  // train.max_steps 40
  json j = hcma;
  j["experiment"]["base_fractions"] = {0.0625, 0.25, 1.0};
  save_json(t / "ok.json", j);
  const auto f = load_hcma_config(t / "ok.json");
  EXPECT_EQ(f.section.base_fractions, (std::vector<double>{0.0625, 0.25, 1.0}));
  EXPECT_EQ(f.section.base_steps, (std::vector<std::int64_t>{3, 10, 40}));  // 2.5 rounds away from 0
  EXPECT_TRUE(load_hcma_config(kConfigs + "hcma_quick.json").section.base_steps.empty());
  for (const json& bad : {json{0.5, 0.25}, json{0.0, 1.0}, json{0.5, 1.5}, json{0.25, 0.25}}) {
    j = hcma;
    j["experiment"]["base_fractions"] = bad;
    EXPECT_TRUE(has(load_error(j, "hcma"), "'base_fractions' must be empty, or increasing numbers in (0, 1]")) << bad;
  }
  j = hcma;
  j["experiment"]["base_fractions"] = {0.01, 0.02};  // both round to step 1 of 40
  EXPECT_TRUE(has(load_error(j, "hcma"), "experiment.base_fractions")) << load_error(j, "hcma");
  EXPECT_TRUE(has(load_error(j, "hcma"), "same step (1 of train.max_steps 40)")) << load_error(j, "hcma");
  j = hcma;
  j["experiment"]["base_fraction"] = {0.5};
  EXPECT_TRUE(has(load_error(j, "hcma"), "base_fraction")) << load_error(j, "hcma");
}
