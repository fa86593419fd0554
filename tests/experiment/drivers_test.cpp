// The experiment drivers and their steps called directly, in this process (the in-process
// runner), on tiny models: training settles the vocabulary against the tokenizer (issue: a model
// never disagrees with its tokenizer), both experiments produce their tables from a reduced
// quick config, resume without redoing work, and alignment keeps every frozen tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/io.h"
#include "experiment/corpus_eval.h"
#include "experiment/cstde_experiment.h"
#include "experiment/experiment_config.h"
#include "experiment/hcma_experiment.h"
#include "experiment/hcma_suite.h"
#include "experiment/step_plan.h"
#include "experiment/steps.h"
#include "model/checkpoint.h"
#include "report/experiment_logs.h"
#include "support/temp_dir.h"
#include "zoo/zoo.h"

namespace fs = std::filesystem;
using namespace structlm;
using namespace structlm::experiment;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// A tiny corpus, a 300-token tokenizer and a one-layer run config without a vocabulary size.
struct TinySetup {
  TempDir t{"tiny"};
  workspace::Workspace ws{STRUCTLM_SOURCE_DIR, t / "data"};
  std::string corpus = t / "tiny.jsonl", tok = t / "tok", config = t / "run.json";
  TinySetup() {
    std::string lines;
    for (int i = 0; i < 80; ++i)
      lines += "{\"id\": \"d" + std::to_string(i) + "\", \"text\": \"the cat sat on the mat " + std::to_string(i * 7) +
               " times. the dog ran to the barn and back.\"}\n";
    write_file_atomic(corpus, lines);
    ws.ensure_trained_tokenizer({corpus}, 300, tok);
    save_json(config, {{"model", {{"block_size", 16}, {"n_layer", 1}, {"n_head", 2}, {"n_embd", 16}}},
                       {"train", {{"batch_size", 2}, {"max_steps", 3}, {"warmup_steps", 1}, {"eval_every", 3},
                                  {"eval_batches", 1}, {"ckpt_every", 3}, {"log_every", 1}, {"threads", 1}}}});
  }
  TrainRequest request(const std::string& run, std::vector<std::string> sets = {}) const {
    TrainRequest r;
    r.config = config;
    r.run_dir = t / run;
    r.tokenizer = tok;
    r.corpora = {corpus};
    r.overrides = std::move(sets);
    return r;
  }
};

TEST(RunTraining, TakesTheVocabularyFromTheTokenizerUnlessTheConfigSetsOne) {
  TinySetup s;
  auto r = run_training(s.ws, s.request("a"));
  EXPECT_EQ(r.steps, 3);
  json cfg = load_json(s.t / "a/config.json");
  EXPECT_EQ(cfg["model"]["vocab_size"], 300);
  EXPECT_EQ(cfg["data"]["tokenizer"], s.tok);  // absolute: the run works from any directory
  EXPECT_TRUE(fs::path(cfg["data"]["train_shards"][0].get<std::string>()).is_absolute());
  json info = load_json(s.t / "a/run_info.json");
  EXPECT_EQ(info["vocabulary"]["source"], "tokenizer");
  EXPECT_EQ(info["vocabulary"]["padding"], 0);

  run_training(s.ws, s.request("b", {"model.vocab_size=320"}));  // padding: allowed and recorded
  EXPECT_EQ(load_json(s.t / "b/config.json")["model"]["vocab_size"], 320);
  EXPECT_EQ(load_json(s.t / "b/run_info.json")["vocabulary"]["padding"], 20);

  auto msg = error_of([&] { run_training(s.ws, s.request("c", {"model.vocab_size=256"})); });
  EXPECT_NE(msg.find(s.config), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.vocab_size 256 is below the 300 tokens of tokenizer " + s.tok), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(s.t / "c/checkpoints"));
}

TEST(RunTraining, ShardsWithIdsOutsideTheModelAreAClearError) {
  TinySetup s;
  // The tokenizer's shards, trained into a model whose config names no tokenizer and is too small.
  auto shards = s.ws.ensure_shards(s.corpus, s.tok);
  json cfg = load_json(s.config);
  cfg["model"]["vocab_size"] = 100;
  cfg["data"] = {{"train_shards", {shards.train}}, {"val_shards", {shards.val}}};
  save_json(s.t / "small.json", cfg);
  TrainRequest r;
  r.config = s.t / "small.json";
  r.run_dir = s.t / "small";
  auto msg = error_of([&] { run_training(s.ws, r); });
  EXPECT_NE(msg.find(shards.train), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
}

TEST(CorpusEval, ScoresEachCorpusOnTheRequestedSplit) {
  TinySetup s;
  run_training(s.ws, s.request("a"));
  auto net = zoo::load_model(s.t / "a/checkpoints/latest.safetensors");
  CorpusEvalOptions o;
  o.corpora = {s.corpus};
  o.tokenizer = s.tok;
  o.split = "val";
  const auto r = evaluate_corpora(net, s.ws, o);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].corpus, "tiny");
  EXPECT_EQ(r[0].split, "val");
  EXPECT_GT(r[0].tokens, 0u);
  EXPECT_NEAR(r[0].perplexity, std::exp(r[0].loss), 1e-9 * r[0].perplexity);
  ASSERT_TRUE(r[0].xz_bits_per_byte.has_value());
  EXPECT_GT(*r[0].xz_bits_per_byte, 0);
  EXPECT_EQ(corpus_scores_json(r)["corpora"][0]["corpus"], "tiny");
  o.split = "dev";
  EXPECT_NE(error_of([&] { evaluate_corpora(net, s.ws, o); }).find("--split: expected train, val or test"), std::string::npos);
}

// The quick configs cut to one seed and the fewest variants, in a temporary workspace.
struct QuickWorkspace {
  TempDir t{"quick"};
  workspace::Workspace ws{STRUCTLM_SOURCE_DIR, t / "data"};
  std::unique_ptr<StepRunner> runner = in_process_runner(ws);
};

TEST(CstdeDriver, TrainsEveryVariantAndWritesTheTableThenResumes) {
  QuickWorkspace q;
  CstdeExperimentOptions o;
  o.config = q.ws.config_path("cstde_quick.json");
  o.out = q.t / "exp";
  o.seeds = 1;
  o.only_variants = {"both"};
  const std::string table = run_cstde_experiment(o, q.ws, *q.runner);
  EXPECT_NE(table.find("| baseline"), std::string::npos) << table;
  EXPECT_NE(table.find("both"), std::string::npos) << table;
  json e = load_json(q.t / "exp/cstde/experiment.json");
  ASSERT_EQ(e["rows"].size(), 2u);
  for (const auto& row : e["rows"]) {
    EXPECT_NEAR(row["values"]["params_rel"].get<double>(), 1.0, 0.02);  // equal parameters, checked
    EXPECT_GT(row["values"]["brown_ppl"].get<double>(), 1);
  }
  // params_rel is each row's own count over the baseline's, not a constant: recomputed from the
  // counts the rows report.
  const double base_params = e["rows"][0]["values"]["params"].get<double>();
  for (const auto& row : e["rows"])
    EXPECT_DOUBLE_EQ(row["values"]["params_rel"].get<double>(), row["values"]["params"].get<double>() / base_params);
  const auto stamp = fs::last_write_time(q.t / "exp/runs/both-seed1/result.json");
  run_cstde_experiment(o, q.ws, *q.runner);  // resume: nothing is trained or measured again
  EXPECT_EQ(fs::last_write_time(q.t / "exp/runs/both-seed1/result.json"), stamp);
  EXPECT_FALSE(load_json(q.t / "exp/cstde/experiment.json").contains("contrasts"));
  // experiment.contrasts are carried into experiment.json and the table; with --variants, only
  // those whose two variants ran (init did not). Only the new attention run trains.
  json cfg = load_json(o.config);
  cfg["experiment"]["contrasts"] = std::vector<std::vector<std::string>>{{"both", "attention"}, {"init", "both"}};
  save_json(q.t / "contrasts.json", cfg);
  o.config = q.t / "contrasts.json";
  o.only_variants = {"both", "attention"};
  const std::string with = run_cstde_experiment(o, q.ws, *q.runner);
  EXPECT_EQ(load_json(q.t / "exp/cstde/experiment.json")["contrasts"], json::parse(R"([["both", "attention"]])"));
  EXPECT_NE(with.find("Paired contrasts between arms"), std::string::npos) << with;
  EXPECT_NE(with.find("| both | attention | "), std::string::npos) << with;
  EXPECT_EQ(fs::last_write_time(q.t / "exp/runs/both-seed1/result.json"), stamp);
  EXPECT_FALSE(load_json(q.t / "exp/cstde/experiment.json").contains("primary_metrics"));
  // experiment.primary_metrics are carried too, and the table puts their comparisons first, as
  // their own Holm family. Nothing trains again.
  cfg["experiment"]["primary_metrics"] = std::vector<std::string>{"val_loss"};
  save_json(q.t / "primary.json", cfg);
  o.config = q.t / "primary.json";
  const std::string primary = run_cstde_experiment(o, q.ws, *q.runner);
  EXPECT_EQ(load_json(q.t / "exp/cstde/experiment.json")["primary_metrics"], json::parse(R"(["val_loss"])"));
  EXPECT_NE(primary.find("Primary comparisons (experiment.primary_metrics)"), std::string::npos) << primary;
  EXPECT_NE(primary.find("primary comparisons (metrics: validation loss, training corpora)"), std::string::npos) << primary;
  EXPECT_NE(primary.find("| both | attention | validation loss, training corpora |"), std::string::npos) << primary;
  EXPECT_EQ(fs::last_write_time(q.t / "exp/runs/both-seed1/result.json"), stamp);
}

TEST(HcmaDriver, AlignsMeasuresAndKeepsFrozenWeights) {
  QuickWorkspace q;
  HcmaExperimentOptions o;
  o.config = q.ws.config_path("hcma_quick.json");
  o.out = q.t / "exp";
  o.seeds = 1;
  o.only_methods = {"hcma", "abtt"};
  o.threads = 1;
  const std::string table = run_hcma_experiment(o, q.ws, *q.runner);
  EXPECT_NE(table.find("original"), std::string::npos) << table;
  json e = load_json(q.t / "exp/hcma/experiment.json");
  ASSERT_EQ(e["rows"].size(), 3u);  // original, hcma, abtt x 1 seed
  EXPECT_EQ(e["rows"][1]["variant"], "hcma");
  EXPECT_TRUE(fs::exists(q.t / "exp/aligned/abtt.safetensors"));         // deterministic: once
  EXPECT_TRUE(fs::exists(q.t / "exp/aligned/hcma-seed1.safetensors"));  // per seed
  EXPECT_TRUE(load_json(q.t / "exp/aligned/hcma-seed1.align/usage.json")["frozen_weights_ok"].get<bool>());
  EXPECT_TRUE(fs::exists(q.t / "exp/hcma/embedding_sample.jsonl"));
  json r = load_json(q.t / "exp/variants/hcma-seed1/result.json");
  EXPECT_TRUE(r["summary"].contains("rare_recall10"));
  EXPECT_TRUE(fs::path(r["checkpoint"].get<std::string>()).is_absolute());
  // Issue 15's report plots: movement.jsonl holds each aligned variant's movement buckets as its
  // alignment reported them (empty buckets left out; the original has none), and every attack
  // line its clean and attacked losses as the suite measured them.
  const auto movement = report::read_movement_log(q.t / "exp/hcma/movement.jsonl");
  std::size_t expected = 0;
  for (const char* v : {"hcma", "abtt"}) {
    const json rep = load_json(q.t / (std::string("exp/aligned/") + (v[0] == 'h' ? "hcma-seed1" : "abtt") + ".align/report.json"));
    for (const auto& b : rep.at("movement")) {
      if (b["relative_move"].is_null()) continue;
      ++expected;
      auto it = std::find_if(movement.begin(), movement.end(),
                             [&](const auto& l) { return l.variant == v && l.seed == 1 && l.bucket == b["bucket"]; });
      ASSERT_NE(it, movement.end()) << v << " " << b.dump();
      EXPECT_EQ(it->relative_move, b["relative_move"].get<double>());
      EXPECT_EQ(it->min_count, b["min_count"].get<long long>());
      EXPECT_EQ(it->tokens, b["tokens"].get<long long>());
    }
  }
  EXPECT_EQ(movement.size(), expected);
  EXPECT_GT(expected, 0u);
  const auto attacks = report::read_attack_log(q.t / "exp/hcma/attack.jsonl");
  std::size_t checked = 0;
  for (const auto& a : r.at("attacks"))
    for (const auto& l : attacks)
      if (l.variant == "hcma" && l.attack == a["attack"] && l.strength == a["strength"].get<double>()) {
        ASSERT_TRUE(l.clean_loss && l.attacked_loss) << l.where;
        EXPECT_EQ(*l.clean_loss, a["clean_loss"].get<double>());
        EXPECT_EQ(*l.attacked_loss, a["attacked_loss"].get<double>());
        ++checked;
      }
  EXPECT_EQ(checked, r.at("attacks").size());
  EXPECT_FALSE(e.contains("primary_metrics"));
  // experiment.primary_metrics reach hcma/experiment.json and the table (its own Holm family).
  json cfg = load_json(o.config);
  cfg["experiment"]["primary_metrics"] = std::vector<std::string>{"rare_recall10"};
  save_json(q.t / "primary.json", cfg);
  o.config = q.t / "primary.json";
  const std::string primary = run_hcma_experiment(o, q.ws, *q.runner);
  EXPECT_EQ(load_json(q.t / "exp/hcma/experiment.json")["primary_metrics"], json::parse(R"(["rare_recall10"])"));
  EXPECT_NE(primary.find("primary comparisons (metrics: rare-token recall@10, targets seen < 100 times)"), std::string::npos)
      << primary;
}

}  // namespace

// experiment.base_fractions (issue 15, item 1): the base model trains once with its checkpoints
// kept at 1/4 and the whole budget; each is aligned and measured in its own folder against its own
// original, and the top table lists both. A rerun measures nothing again.
TEST(HcmaDriver, AlignsAndMeasuresAtEachKeptFractionOfTheBudget) {
  QuickWorkspace q;
  json cfg = load_json(q.ws.config_path("hcma_quick.json"));  // 40 steps
  cfg["experiment"]["base_fractions"] = {0.25, 1.0};
  save_json(q.t / "fractions.json", cfg);
  HcmaExperimentOptions o;
  o.config = q.t / "fractions.json";
  o.out = q.t / "exp";
  o.seeds = 1;
  o.only_methods = {"abtt"};
  o.threads = 1;
  const std::string table = run_hcma_experiment(o, q.ws, *q.runner);
  for (std::int64_t step : {10, 40}) {
    const std::string kept = q.t / ("exp/base/checkpoints/keep_00000" + std::to_string(step) + ".safetensors");
    ASSERT_TRUE(fs::exists(kept)) << kept;
    EXPECT_EQ(model::read_any_checkpoint(kept).meta["train_state"]["step"], step);
  }
  double ppl[2];
  int i = 0;
  for (const char* label : {"base-0.25", "base-1"}) {
    const std::string dir = q.t / (std::string("exp/") + label);
    json orig = load_json(dir + "/variants/original-seed1/result.json");
    EXPECT_EQ(orig["checkpoint"], q.t / (std::string("exp/base/checkpoints/keep_00000") + (i == 0 ? "10" : "40") +
                                         ".safetensors"));
    ppl[i++] = orig["summary"]["ppl"].get<double>();
    EXPECT_TRUE(fs::exists(dir + "/aligned/abtt.safetensors")) << dir;
    EXPECT_TRUE(load_json(dir + "/aligned/abtt.align/usage.json")["frozen_weights_ok"].get<bool>());
    EXPECT_EQ(load_json(dir + "/hcma/experiment.json")["rows"].size(), 2u);  // original, abtt
    EXPECT_TRUE(fs::exists(dir + "/hcma/table.md"));
    EXPECT_NE(table.find("## " + std::string(label)), std::string::npos) << table;
  }
  EXPECT_GT(ppl[0], ppl[1]);  // 10 steps of training against 40: a different, worse model
  EXPECT_NE(table.find("| 0.25 | 10 | abtt |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 1 | 40 | original |"), std::string::npos) << table;
  EXPECT_EQ(read_file(q.t / "exp/hcma/table.md"), table);
  const auto stamp = fs::last_write_time(q.t / "exp/base-0.25/variants/abtt-seed1/result.json");
  run_hcma_experiment(o, q.ws, *q.runner);
  EXPECT_EQ(fs::last_write_time(q.t / "exp/base-0.25/variants/abtt-seed1/result.json"), stamp);

  // --plan on a fresh folder: the training (stage 1, its config keeping steps 10 and 40), then
  // one alignment per fraction reading that fraction's kept file (stage 2).
  HcmaExperimentOptions p = o;
  p.out = q.t / "planned";
  const auto steps = plan_hcma_experiment(p, q.ws, "structlm");
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].stage, 1);
  EXPECT_EQ(load_json(q.t / "planned/base/requested_config.json")["train"]["keep_steps"],
            (json{10, 40}));
  for (std::size_t k = 1; k < 3; ++k) {
    EXPECT_EQ(steps[k].stage, 2);
    const std::string cmd = shell_command(steps[k].argv);
    EXPECT_NE(cmd.find(k == 1 ? "keep_0000010.safetensors" : "keep_0000040.safetensors"), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(k == 1 ? "base-0.25/aligned/abtt" : "base-1/aligned/abtt"), std::string::npos) << cmd;
  }

  // With --model there is no training run to keep checkpoints of.
  o.model = q.t / "exp/base";
  o.out = q.t / "exp2";
  EXPECT_NE(error_of([&] { run_hcma_experiment(o, q.ws, *q.runner); }).find("--model"), std::string::npos);
}

// A shrink matched to HCMA's clean-loss cost (issue 15, item 2): aligned after HCMA, per seed,
// reading HCMA's aligned file of its seed and the suite corpus's validation shard (never test);
// its report's losses are consistent and the table lists the choice. --plan puts it a stage after
// the alignment it reads. Bad "match" entries are refused naming the key.
TEST(HcmaDriver, MatchedShrinkIsAlignedAfterTheModelItMatchesOnValidation) {
  QuickWorkspace q;
  json cfg = load_json(q.ws.config_path("hcma_quick.json"));
  cfg["experiment"]["methods"]["shrink-m"] = {{"method", "shrink"}, {"match", "hcma"}};
  save_json(q.t / "matched.json", cfg);
  HcmaExperimentOptions o;
  o.config = q.t / "matched.json";
  o.out = q.t / "exp";
  o.seeds = 1;
  o.only_methods = {"hcma", "shrink-m"};
  o.threads = 1;

  HcmaExperimentOptions p = o;
  p.out = q.t / "planned";
  const auto steps = plan_hcma_experiment(p, q.ws, "structlm");
  ASSERT_EQ(steps.size(), 3u);  // train, hcma, shrink-m
  EXPECT_EQ(steps[1].stage, 2);
  EXPECT_EQ(steps[2].stage, 3);
  EXPECT_NE(steps[2].what.find("shrink-m-seed1"), std::string::npos) << steps[2].what;

  const std::string table = run_hcma_experiment(o, q.ws, *q.runner);
  const json rep = load_json(q.t / "exp/aligned/shrink-m-seed1.align/report.json");
  const json& m = rep.at("match");
  EXPECT_EQ(m["checkpoint"], q.t / "exp/aligned/hcma-seed1.safetensors");
  EXPECT_EQ(fs::path(m["shard"].get<std::string>()).filename(), "val.bin");
  EXPECT_NE(m["shard"].get<std::string>().find("/brown/"), std::string::npos) << m["shard"];
  EXPECT_NEAR(m["matched_val_loss"].get<double>() - m["original_val_loss"].get<double>(),
              m["target_increase"].get<double>(), 1e-12);
  EXPECT_EQ(m["a"], rep["a"]);
  const json opts = load_json(q.t / "exp/aligned/shrink-m-seed1.align/options.json");
  EXPECT_EQ(opts["match_checkpoint"], m["checkpoint"]);
  EXPECT_NE(table.find("Shrink matched to a method's clean-loss cost"), std::string::npos) << table;
  EXPECT_NE(table.find("| shrink-m | hcma | 1 |"), std::string::npos) << table;
  // Item 4: each attack of HCMA next to the matched shrink's (one seed here: no verdict).
  EXPECT_NE(table.find("Robustness at matched clean loss"), std::string::npos) << table;
  EXPECT_NE(table.find("| hcma | shrink-m | gradient_sign | 0.1 | 1 |"), std::string::npos) << table;
  EXPECT_TRUE(load_json(q.t / "exp/aligned/shrink-m-seed1.align/usage.json")["frozen_weights_ok"].get<bool>());

  o.only_methods = {"shrink-m"};
  EXPECT_NE(error_of([&] { run_hcma_experiment(o, q.ws, *q.runner); }).find("leaves out"), std::string::npos);

  auto refused = [&](const json& method, const std::string& part) {
    json c = load_json(q.ws.config_path("hcma_quick.json"));
    c["experiment"]["methods"]["bad"] = method;
    save_json(q.t / "bad.json", c);
    const std::string msg = error_of([&] { load_hcma_config(q.t / "bad.json"); });
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
    EXPECT_NE(msg.find("experiment.methods.bad"), std::string::npos) << msg;
  };
  refused({{"method", "shrink"}, {"match", "nothing"}}, "names no method");
  refused({{"method", "shrink"}, {"match", "bad"}}, "not itself matched");
  refused({{"method", "hcma"}, {"match", "abtt"}}, "is for a shrink variant");
  refused({{"method", "shrink"}, {"match", 3}}, "'match' must name");
  refused({{"method", "shrink"}, {"match_checkpoint", "x"}, {"match_shard", "y"}}, "set by the experiment");
}

// Tuned baselines (issue 15, item 3): emb-finetune's lr and steps chosen from a 2 x 2 grid by the
// clean loss on the suite corpus's validation split. Each grid point's loss is recomputed here
// independently (the aligned model's own next-token logits over the same windows, fp32), the
// choice is their argmin, and every seed's emb-finetune is aligned with it; --plan stages the grid
// before the tuned alignments.
TEST(HcmaDriver, TunedBaselineTakesTheGridPointWithTheLowestValidationLoss) {
  QuickWorkspace q;
  json cfg = load_json(q.ws.config_path("hcma_quick.json"));
  cfg["experiment"]["methods"]["emb-finetune"] = {{"lr_grid", {0.001, 0.05}}, {"steps_grid", {3, 6}}};
  cfg["experiment"]["suite"]["precision"] = "fp32";
  save_json(q.t / "tuned.json", cfg);
  HcmaExperimentOptions o;
  o.config = q.t / "tuned.json";
  o.out = q.t / "exp";
  o.seeds = 2;
  o.only_methods = {"emb-finetune"};
  o.threads = 1;

  HcmaExperimentOptions p = o;
  p.out = q.t / "planned";
  const auto steps = plan_hcma_experiment(p, q.ws, "structlm");
  ASSERT_EQ(steps.size(), 5u);  // train, then the 4 grid points (the tuned alignments: once they have run)
  for (std::size_t k = 1; k < 5; ++k) {
    EXPECT_EQ(steps[k].stage, 2);  // no untuned method here: the recorder's empty stage collapses
    EXPECT_NE(steps[k].what.find("/tune/emb-finetune/lr"), std::string::npos) << steps[k].what;
  }

  const std::string table = run_hcma_experiment(o, q.ws, *q.runner);
  const json t = load_json(q.t / "exp/hcma/tuning.json");
  const std::string val = t["shard"];
  EXPECT_EQ(fs::path(val).filename(), "val.bin");
  EXPECT_NE(val.find("/brown/"), std::string::npos) << val;
  const json& m = t["methods"]["emb-finetune"];
  ASSERT_EQ(m["points"].size(), 4u);

  const data::TokenStream v({val});
  auto independent = [&](const std::string& checkpoint) {
    torch::NoGradGuard ng;
    auto net = zoo::load_any_model(checkpoint);
    const std::int64_t T = net.lm().context_length();
    const std::size_t n = std::min<std::size_t>(100000, v.size() - 1);
    double sum = 0;
    for (std::size_t start = 0; start < n; start += std::size_t(T)) {
      const std::int64_t len = std::min<std::int64_t>(T, std::int64_t(n - start));
      std::vector<std::int64_t> ids(std::size_t(len + 1));
      v.read(start, ids.size(), ids.data());
      auto x = torch::tensor(ids).unsqueeze(0);
      auto logp = torch::log_softmax(net.lm().next_token_logits(x.slice(1, 0, len), nullptr).to(torch::kFloat64), -1);
      sum -= logp.gather(-1, x.slice(1, 1).unsqueeze(-1)).sum().item<double>();
    }
    return sum / double(n);
  };
  double best = 1e9;
  json best_point;
  for (const auto& point : m["points"]) {
    const double mine = independent(point["checkpoint"]);
    EXPECT_NEAR(point["val_loss"].get<double>(), mine, 1e-4) << point.dump();
    if (mine < best) best = mine, best_point = point;
  }
  EXPECT_EQ(m["lr"], best_point["lr"]);
  EXPECT_EQ(m["steps"], best_point["steps"]);
  for (int seed : {1, 2}) {
    const json opts = load_json(q.t / ("exp/aligned/emb-finetune-seed" + std::to_string(seed) + ".align/options.json"));
    EXPECT_EQ(opts["lr"], best_point["lr"]) << seed;
    EXPECT_EQ(opts["steps"], best_point["steps"]) << seed;
    EXPECT_EQ(opts["seed"], seed);
  }
  EXPECT_NE(table.find("Baselines tuned on validation"), std::string::npos) << table;
  EXPECT_EQ(load_json(q.t / "exp/hcma/experiment.json")["rows"].size(), 4u);  // original and emb-finetune x 2 seeds

  auto refused = [&](const json& method, const std::string& part) {
    json c = load_json(q.ws.config_path("hcma_quick.json"));
    c["experiment"]["methods"]["bad"] = method;
    save_json(q.t / "bad.json", c);
    const std::string msg = error_of([&] { load_hcma_config(q.t / "bad.json"); });
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  refused({{"method", "abtt"}, {"lr_grid", {0.1}}}, "trained by the LM loss");
  refused({{"method", "hcma"}, {"steps_grid", {3}}}, "trained by the LM loss");
  refused({{"method", "emb-finetune"}, {"lr_grid", json::array()}}, "'lr_grid' must be a non-empty list");
  refused({{"method", "emb-finetune"}, {"lr_grid", {0.1, 0.1}}}, "'lr_grid' repeats");
  refused({{"method", "emb-finetune"}, {"steps_grid", {2.5}}}, "'steps_grid' must be");
}
