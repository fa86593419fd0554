#include "experiment/hcma_experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "hcma/align.h"
#include "hcma/baselines.h"
#include "hcma/frozen_check.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "experiment/experiment_config.h"
#include "experiment/run_report.h"
#include "experiment/hcma_metrics.h"
#include "experiment/hcma_paired.h"
#include "experiment/hcma_suite.h"
#include "experiment/step_plan.h"
#include "model/checkpoint.h"
#include "model/precision.h"
#include "model/runtime.h"
#include "report/experiment_logs.h"
#include "report/experiment_markdown.h"
#include "report/report.h"
#include "train/checkpointing.h"
#include "train/config.h"
#include "workspace/run_files.h"
#include "zoo/zoo.h"

namespace structlm::experiment {

namespace {

struct Setup {
  ExperimentFile<HcmaSection> cfg;
  const HcmaSection& e() const { return cfg.section; }
  std::vector<std::pair<std::string, hcma::AlignOptions>> methods;  // variant name -> its options, config order
  bool runs(const std::string& name) const {  // in `methods` (the config's, less what --methods leaves out)
    return std::any_of(methods.begin(), methods.end(), [&](const auto& m) { return m.first == name; });
  }
};

Setup read_setup(const HcmaExperimentOptions& o) {
  Setup s;
  s.cfg = load_hcma_config(o.config, o.seeds);
  for (const auto& [name, options] : s.e().variants)  // every one checked when the config was read
    if (o.only_methods.empty() || std::find(o.only_methods.begin(), o.only_methods.end(), name) != o.only_methods.end())
      s.methods.emplace_back(name, options);
  // JSON objects come back sorted by key; HCMA's variants go first, so they keep the first colours
  // after the original model and lead every table.
  std::stable_partition(s.methods.begin(), s.methods.end(), [](const auto& m) { return m.second.method == "hcma"; });
  for (const auto& [variant, matched] : s.e().matches)
    if (s.runs(variant) && !s.runs(matched))
      fail(o.config, "method '" + variant + "' matches '" + matched + "', which --methods leaves out; add it");
  return s;
}


std::string seed_dir(const std::string& base, const std::string& name, std::int64_t seed) {
  return base + "/" + name + "-seed" + std::to_string(seed);
}

struct BaseModel {
  std::string checkpoint, tokenizer;
  std::vector<std::string> frequency_shards;
  bool pending = false;  // its train step was recorded, not run (--plan, --collect): no checkpoint yet
};

// The model to align: --model as given, or trained here on the training corpora with its own
// tokenizer (OUT/base, resumed when interrupted, marked done when finished). In the other modes a
// base whose training is not finished is recorded as a step; --collect marks a finished one done.
BaseModel base_model(const Setup& s, const HcmaExperimentOptions& o, const workspace::Workspace& ws, StepRunner& runner,
                     StepMode mode) {
  BaseModel b;
  if (!o.model.empty()) {
    auto files = workspace::resolve_run(o.model, o.tokenizer);
    b.checkpoint = files.checkpoint;
    b.tokenizer = files.tokenizer;
    b.frequency_shards = {ws.ensure_shards(s.e().calibration, b.tokenizer).train};
    return b;
  }
  b.tokenizer = o.out + "/tokenizer";
  ws.ensure_trained_tokenizer(s.e().train_corpora, s.e().vocab_size, b.tokenizer);
  json data = ws.training_data_section(s.e().train_corpora, b.tokenizer);
  b.frequency_shards = data["train_shards"].get<std::vector<std::string>>();
  const std::string base = o.out + "/base";
  b.checkpoint = base + "/checkpoints/latest.safetensors";
  if (file_exists(base + "/done")) return b;
  json run = {{"model", s.cfg.file.at("model")}, {"train", s.cfg.file.at("train")}, {"data", data}};
  run["model"]["vocab_size"] = ws.load_tokenizer(b.tokenizer).vocab_size();
  if (o.threads > 0) run["train"]["threads"] = o.threads;
  if (!s.e().base_steps.empty()) {  // experiment.base_fractions: their checkpoints are kept
    std::set<std::int64_t> keep(s.e().base_steps.begin(), s.e().base_steps.end());
    for (const auto& k : run["train"].value("keep_steps", json::array())) keep.insert(k.get<std::int64_t>());
    run["train"]["keep_steps"] = std::vector<std::int64_t>(keep.begin(), keep.end());
  }
  auto cfg = train::RunConfig::from_json(run, s.cfg.path);  // a GPT or, with model.arch llama, a Llama
  const bool finished = mode != StepMode::run && trained_model_present(base, cfg.train);
  if (finished) {
    if (mode == StepMode::collect) write_file_atomic(base + "/done", "");
    return b;
  }
  make_dirs(base);
  save_json(base + "/requested_config.json", cfg.to_json());
  if (mode == StepMode::run) std::fprintf(stderr, "experiment hcma: training the model (%s)\n", base.c_str());
  auto usage = runner.train({base + "/requested_config.json", base, "", {}, {}, /*resume=*/false, /*auto_resume=*/true});
  if (mode != StepMode::run) {
    b.pending = true;
    return b;
  }
  if (usage.exit_code != 0)
    fail(base, "training failed (exit " + std::to_string(usage.exit_code) + "); rerun the experiment to resume it");
  write_file_atomic(base + "/done", "");
  return b;
}

struct Variant {
  std::string name, checkpoint, report_dir;
  std::int64_t seed;
  ChildUsage usage;
};

// An alignment step has finished when its report is written (run_alignment writes it last).
bool alignment_finished(const Variant& v) {
  return file_exists(v.checkpoint) && file_exists(v.report_dir + "/report.json");
}

// The usage an alignment step run elsewhere recorded in its report, in the form the driver
// records a child's (wait4's wall time covers the process start too: a fraction of a second).
ChildUsage recorded_align_usage(const Variant& v) {
  const std::string path = v.report_dir + "/report.json";
  const json rep = load_json(path);
  check(rep.contains("step_wall_s"), path,
        "has no step_wall_s: the alignment was run by a structlm that did not record its cost; delete " + v.checkpoint +
            " and its report directory, and align again");
  ChildUsage u;
  u.exit_code = 0;
  read_field(rep, "step_wall_s", u.wall_s, path);
  read_field(rep, "peak_rss_mib", u.peak_rss_mib, path);
  return u;
}

// Starts one alignment step through `runner`, its options written where the step reads them.
ChildUsage start_alignment(const Variant& v, const hcma::AlignOptions& opts, const HcmaExperimentOptions& o,
                           const BaseModel& b, const std::string& calib_shard, StepRunner& runner) {
  make_dirs(v.report_dir);
  json j = opts.to_json();
  j["seed"] = v.seed;
  save_json(v.report_dir + "/options.json", j);
  AlignRequest req;
  req.model = b.checkpoint;
  req.calib = calib_shard;
  req.out = v.checkpoint;
  req.tokenizer = b.tokenizer;
  req.report = v.report_dir;
  req.threads = o.threads;
  return runner.align(req, v.report_dir + "/options.json");
}

// One aligned checkpoint per (method, seed), or one per method when the method is deterministic;
// each checked on the written files to change nothing but the input table. With a StepRecorder
// (--plan, --collect) an unfinished alignment is recorded, not run, and left out of the variants
// returned; --collect checks a finished one and keeps the cost its step recorded.
// The aligned checkpoint's path without its extension: one per method when it is deterministic.
std::string aligned_stem(const HcmaExperimentOptions& o, const std::string& method, const hcma::AlignOptions& opts,
                         std::int64_t seed) {
  return opts.deterministic() ? o.out + "/aligned/" + method : seed_dir(o.out + "/aligned", method, seed);
}

// Which variants a call of align_variants aligns: `plain` every variant neither tuned nor matched
// (and lists the original model); `tuned` those with an lr/steps grid, with the options chosen
// on validation (`chosen`; a method not in it is not aligned yet: its grid is pending); `matched`
// the matched shrinks (experiment.methods.<v>.match), which read the aligned model they match and
// so come a stage later: their options get that model's checkpoint for the same seed and the
// suite corpus's validation shard (issue 15, items 2 and 3).
enum class Pass { plain, tuned, matched };

std::vector<Variant> align_variants(const Setup& s, const HcmaExperimentOptions& o, const workspace::Workspace& ws,
                                    const BaseModel& b, StepRunner& runner, StepMode mode, Pass pass = Pass::plain,
                                    const std::map<std::string, hcma::AlignOptions>& chosen = {}) {
  const bool matched = pass == Pass::matched;
  const std::string calib_shard = ws.ensure_shards(s.e().calibration, b.tokenizer).train;
  std::optional<model::Checkpoint> source;  // read when an alignment is checked (a pending base has none)
  std::set<std::string> recorded;           // a deterministic method's seeds share one step
  std::vector<Variant> variants;
  if (pass == Pass::plain)
    for (auto seed : s.e().seeds) variants.push_back({"original", b.checkpoint, "", seed, {}});
  const std::size_t total = s.methods.size() * s.e().seeds.size();
  std::size_t done = 0;
  for (auto seed : s.e().seeds)
    for (const auto& [method, config_opts] : s.methods) {
      ++done;
      const auto match = s.e().matches.find(method);
      const bool tuned = s.e().tuning.count(method) != 0;
      const Pass its = match != s.e().matches.end() ? Pass::matched : tuned ? Pass::tuned : Pass::plain;
      if (its != pass) continue;
      if (tuned && !chosen.count(method)) continue;  // its grid has not finished: aligned once it has
      hcma::AlignOptions opts = tuned ? chosen.at(method) : config_opts;
      if (matched) {
        const auto other = std::find_if(s.e().variants.begin(), s.e().variants.end(),
                                        [&](const auto& v) { return v.first == match->second; });
        opts.shrink.match_checkpoint = aligned_stem(o, other->first, other->second, seed) + ".safetensors";
        opts.shrink.match_shard = ws.ensure_shards(s.e().suite.corpus, b.tokenizer).val;
      }
      const std::string stem = aligned_stem(o, method, opts, seed);
      Variant v{method, stem + ".safetensors", stem + ".align", seed, {}};
      const std::string usage_path = v.report_dir + "/usage.json";
      if (!file_exists(usage_path)) {
        const bool finished = mode != StepMode::run && !b.pending && alignment_finished(v);
        if (mode != StepMode::run && !finished) {
          if (recorded.insert(v.checkpoint).second) start_alignment(v, opts, o, b, calib_shard, runner);
          continue;
        }
        if (mode == StepMode::plan) continue;  // aligned: --collect checks it
        ChildUsage usage;
        if (mode == StepMode::run) {
          std::fprintf(stderr, "experiment hcma: [%zu/%zu] align %s seed %lld\n", done, total, method.c_str(), (long long)seed);
          usage = start_alignment(v, opts, o, b, calib_shard, runner);
          if (usage.exit_code != 0)
            fail(v.checkpoint, "alignment " + method + " seed " + std::to_string(seed) + " failed (exit " +
                                   std::to_string(usage.exit_code) + ")");
        } else {
          usage = recorded_align_usage(v);
        }
        // The guarantee, checked on the written files before anything is measured.
        if (!source) source = model::read_any_checkpoint(b.checkpoint);
        auto bad = hcma::frozen_weight_violations(*source, model::read_any_checkpoint(v.checkpoint));
        if (!bad.empty()) fail(v.checkpoint, "changes more than the input table: " + bad.front());
        save_json(usage_path, {{"wall_s", usage.wall_s}, {"peak_rss_mib", usage.peak_rss_mib}, {"frozen_weights_ok", true}});
      }
      json u = load_json(usage_path);
      v.usage.wall_s = u["wall_s"];
      v.usage.peak_rss_mib = u["peak_rss_mib"];
      variants.push_back(v);
    }
  return variants;
}

// The grid and choice files of issue 15 item 3 use these many tokens of the validation split.
constexpr std::size_t kTuneTokens = 100000;

// The clean loss of a checkpoint on the first kTuneTokens tokens of `shard` (hcma::loss_with_input_table),
// kept in `cache` (a JSON file) once measured.
double validation_loss(const std::string& checkpoint, const std::string& shard, const std::string& precision,
                       const std::string& cache) {
  if (file_exists(cache)) {
    const json j = load_json(cache);
    if (j.value("checkpoint", "") == checkpoint && j.value("shard", "") == shard) return j.at("val_loss").get<double>();
  }
  auto net = zoo::load_any_model(checkpoint);
  const data::TokenStream val({shard});
  val.check_ids_below(std::size_t(net.lm().vocabulary_rows()), "the model's vocabulary");
  const auto p = model::resolve_precision(precision, torch::kCPU);
  const double loss = hcma::loss_with_input_table(net.lm(), net.lm().input_table(), val, kTuneTokens,
                                                  net.lm().context_length(), 8, p.precision);
  save_json(cache, {{"checkpoint", checkpoint}, {"shard", shard}, {"tokens", kTuneTokens}, {"val_loss", loss}});
  return loss;
}

std::string grid_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// Issue 15 item 3: every (lr, steps) of each tuned method's grid aligned with the first seed
// (OUT[/base-f]/tune/<method>/lr<lr>-steps<steps>), each scored by its clean loss on the suite
// corpus's validation split (never its test split), the lowest chosen (the first in grid order
// on a tie). Returns the chosen options of every method whose grid has finished; writes
// hcma/tuning.json with every point. With a recorder, an unfinished point is recorded as a step.
std::map<std::string, hcma::AlignOptions> tune_methods(const Setup& s, const HcmaExperimentOptions& o,
                                                       const workspace::Workspace& ws, const BaseModel& b,
                                                       StepRunner& runner, StepMode mode) {
  std::map<std::string, hcma::AlignOptions> chosen;
  if (s.e().tuning.empty()) return chosen;
  const std::string calib_shard = ws.ensure_shards(s.e().calibration, b.tokenizer).train;
  const std::string val_shard = ws.ensure_shards(s.e().suite.corpus, b.tokenizer).val;
  const std::int64_t seed = s.e().seeds.front();
  json report = {{"seed", seed}, {"shard", val_shard}, {"tokens", kTuneTokens}, {"methods", json::object()}};
  bool any = false;
  for (const auto& [method, config_opts] : s.methods) {
    const auto g = s.e().tuning.find(method);
    if (g == s.e().tuning.end()) continue;
    json points = json::array();
    bool pending = false;
    double best = 0;
    std::optional<hcma::AlignOptions> best_opts;
    for (double lr : g->second.lr)
      for (int steps : g->second.steps) {
        hcma::AlignOptions opts = config_opts;
        opts.loop.lr = lr;
        opts.loop.steps = steps;
        const std::string stem = o.out + "/tune/" + method + "/lr" + grid_number(lr) + "-steps" + std::to_string(steps);
        Variant v{method, stem + ".safetensors", stem + ".align", seed, {}};
        if (b.pending || !alignment_finished(v)) {
          if (mode != StepMode::run) {
            start_alignment(v, opts, o, b, calib_shard, runner);  // recorded, not run
            pending = true;
            continue;
          }
          std::fprintf(stderr, "experiment hcma: tuning %s: lr %g, %d steps\n", method.c_str(), lr, steps);
          const auto usage = start_alignment(v, opts, o, b, calib_shard, runner);
          if (usage.exit_code != 0)
            fail(v.checkpoint, "alignment " + method + " (tuning lr " + grid_number(lr) + ", " + std::to_string(steps) +
                                   " steps) failed (exit " + std::to_string(usage.exit_code) + ")");
        }
        const double loss = validation_loss(v.checkpoint, val_shard, s.e().suite.precision, v.report_dir + "/val.json");
        points.push_back({{"lr", lr}, {"steps", steps}, {"val_loss", loss}, {"checkpoint", v.checkpoint}});
        if (!best_opts || loss < best) best = loss, best_opts = opts;
      }
    if (pending) continue;
    chosen[method] = *best_opts;
    any = true;
    report["methods"][method] = {{"points", points}, {"lr", best_opts->loop.lr}, {"steps", best_opts->loop.steps},
                                 {"val_loss", best}};
  }
  if (any) {
    report["original_val_loss"] =
        validation_loss(b.checkpoint, val_shard, s.e().suite.precision, o.out + "/tune/original-val.json");
    save_json(o.out + "/hcma/tuning.json", report);
  }
  return chosen;
}

// The tuned methods' grids and choices (hcma/tuning.json), for the table. Empty without any.
std::string tuning_markdown(const HcmaExperimentOptions& o) {
  const std::string path = o.out + "/hcma/tuning.json";
  if (!file_exists(path)) return "";
  const json t = load_json(path);
  std::string md = "\n## Baselines tuned on validation\n\nEach tuned method's lr (relative to RMS(E⁰)) and steps were "
                   "chosen from its declared grid by the clean loss on the validation split (" +
                   t["shard"].get<std::string>() + ", first " + std::to_string(t["tokens"].get<std::size_t>()) +
                   " tokens; alignment seed " + std::to_string(t["seed"].get<std::int64_t>()) +
                   "); the choice is used for every seed. The original model's loss there: " +
                   grid_number(t["original_val_loss"].get<double>()) +
                   " nats/token.\n\n| method | lr | steps | validation loss | chosen |\n| --- | --- | --- | --- | --- |\n";
  for (auto it = t["methods"].begin(); it != t["methods"].end(); ++it)
    for (const auto& p : it.value()["points"]) {
      char line[300];
      const bool is = p["lr"] == it.value()["lr"] && p["steps"] == it.value()["steps"];
      std::snprintf(line, sizeof line, "| %s | %g | %d | %.4f | %s |\n", it.key().c_str(), p["lr"].get<double>(),
                    p["steps"].get<int>(), p["val_loss"].get<double>(), is ? "yes" : "");
      md += line;
    }
  return md;
}

using Results = std::map<std::pair<std::string, std::int64_t>, json>;

// Every variant measured under each seed's probes, in this process (result.json kept on rerun).
Results measure_variants(const Setup& s, const HcmaExperimentOptions& o, const workspace::Workspace& ws,
                         const BaseModel& b, const std::vector<Variant>& variants) {
  model::init_threads(o.threads);
  Results results;
  std::size_t measured = 0;
  for (const auto& v : variants) {
    ++measured;
    const std::string dir = seed_dir(o.out + "/variants", v.name, v.seed);
    const std::string path = dir + "/result.json";
    if (!file_exists(path)) {
      std::fprintf(stderr, "experiment hcma: [%zu/%zu] measuring %s seed %lld\n", measured, variants.size(), v.name.c_str(),
                   (long long)v.seed);
      auto net = zoo::load_any_model(v.checkpoint);  // the GPT or a Llama-family model
      HcmaSuiteOptions h = s.e().suite;  // tokenizer, shards and seed are set per use
      h.tokenizer = b.tokenizer;
      h.frequency_shards = b.frequency_shards;
      h.seed = std::uint64_t(v.seed);
      const auto suite = run_hcma_suite(net.lm(), ws, h);
      json r = suite.to_json();
      r["variant"] = v.name;
      r["checkpoint"] = v.checkpoint;
      r["summary"] = hcma_summary(suite);
      if (!v.report_dir.empty()) {
        r["alignment"] = load_json(v.report_dir + "/report.json");
        r["alignment"].erase("top_cluster");
        r["summary"]["align_wall_s"] = v.usage.wall_s;
        r["summary"]["align_peak_rss_mib"] = v.usage.peak_rss_mib;
      }
      make_dirs(dir);
      save_json(path, r);
    }
    results[{v.name, v.seed}] = load_json(path);
  }
  return results;
}

// experiment.json and the JSONL raw logs of docs/REPORT.md, from the typed suite results through
// the typed log lines of report/experiment_logs.h.
report::Experiment write_raw_logs(const Setup& s, const HcmaExperimentOptions& o, const Results& results, const std::string& description) {
  report::Experiment e;
  e.name = "hcma";
  e.description = description;
  e.baseline = "original";
  e.metrics = hcma_metrics();
  std::vector<report::RecallLine> recall;
  std::vector<report::AttackLine> attacks;
  std::vector<report::LossLine> positions;
  std::vector<report::MovementLine> movement;
  std::vector<std::string> order = {"original"};
  for (const auto& [m, _] : s.methods) order.push_back(m);
  for (const auto& name : order)
    for (auto seed : s.e().seeds) {
      const json& r = results.at({name, seed});
      json values = json::object();
      for (const auto& c : e.metrics) values[c.key] = r["summary"].value(c.key, json(nullptr));
      e.rows.push_back({name, seed, values});
      const auto suite = HcmaSuiteResult::from_json(r, name + " seed " + std::to_string(seed) + " result.json");
      for (const auto& x : suite.recall)
        if (std::isfinite(x.recall)) recall.push_back({"", name, seed, x.k, x.bucket, x.min_count, x.recall, x.targets});
      for (const auto& a : suite.attacks)
        attacks.push_back({"", name, seed, a.attack, a.strength, a.loss_increase, a.flip_rate, a.clean_loss, a.attacked_loss});
      // How far the rows moved, by calibration count, from the alignment's own report (the
      // original has none; an empty bucket's null is left out).
      if (r.contains("alignment"))
        for (json b : r.at("alignment").at("movement"))
          if (!b.value("relative_move", json()).is_null()) {
            b["variant"] = name;
            b["seed"] = seed;
            movement.push_back(report::MovementLine::from_json(b, name + " seed " + std::to_string(seed) + " result.json: movement"));
          }
      for (const auto& p : suite.loss_by_position)
        if (std::isfinite(p.loss)) positions.push_back({"", name, seed, p.position, p.loss, p.tokens});
    }
  e.primary_metrics = s.e().primary_metrics;  // Holm within the primary and the secondary family
  e.path = o.out + "/hcma/experiment.json";
  e.check();  // what the report will refuse when it reads the file back is refused before writing it
  save_json(e.path, e.to_json());
  write_file_atomic(o.out + "/hcma/rare_recall.jsonl", report::jsonl_text(recall));
  write_file_atomic(o.out + "/hcma/attack.jsonl", report::jsonl_text(attacks));
  write_file_atomic(o.out + "/hcma/loss_by_position.jsonl", report::jsonl_text(positions, "position"));
  if (!movement.empty()) write_file_atomic(o.out + "/hcma/movement.jsonl", report::jsonl_text(movement));
  return e;
}

// The embedding before and after HCMA (the first seed), on a sample of clustered tokens.
void write_embedding_sample(const HcmaExperimentOptions& o, const workspace::Workspace& ws, const BaseModel& b,
                            const std::vector<Variant>& variants) {
  const auto hcma = std::find_if(variants.begin(), variants.end(), [](const Variant& v) { return v.name == "hcma"; });
  if (hcma == variants.end()) return;
  json rep = load_json(hcma->report_dir + "/report.json");
  const auto source = model::read_any_checkpoint(b.checkpoint);
  const std::string input = hcma::input_table_name(source.arch);
  auto after = model::read_any_checkpoint(hcma->checkpoint).tensors.at(input);
  auto before = source.tensors.at(input);
  const auto tok = ws.load_tokenizer(b.tokenizer);
  const auto& top = rep.at("top_cluster");
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < top.size() && i < tok.vocab_size(); ++i)
    if (top[i].get<std::int64_t>() >= 0) ids.push_back(std::int64_t(i));
  SplitMix64 rng(1);
  shuffle(ids, rng);
  if (ids.size() > 200) ids.resize(200);
  // Five decimals are plenty for a projection and keep the raw log small enough to commit.
  auto rounded = [](const torch::Tensor& row) {
    auto r = (row.to(torch::kFloat64) * 1e5).round() / 1e5;
    auto c = r.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  std::string lines;
  for (auto id : ids)
    lines += json({{"token", tok.decode({text::TokenId(id)})}, {"id", id}, {"cluster", top[std::size_t(id)]},
                   {"before", rounded(before[id])}, {"after", rounded(after[id])}})
                 .dump(-1, ' ', false, json::error_handler_t::replace) +  // a byte token is not UTF-8 alone
             "\n";
  write_file_atomic(o.out + "/hcma/embedding_sample.jsonl", lines);
}

}  // namespace

namespace {

struct Drive {
  std::string table;               // run and collect
  std::vector<PlannedStep> steps;  // plan
};

// One model the experiment aligns and measures: the base model, or (experiment.base_fractions)
// one of its kept checkpoints, with the folder its results go to.
struct Target {
  std::string label;  // "" (the base model, results in OUT/) or "base-<fraction>"
  double fraction = 1;
  std::int64_t step = 0;
  HcmaExperimentOptions o;  // o.out: the folder of this target's aligned/, variants/, hcma/
  BaseModel b;
  std::vector<Variant> variants;
};

std::string fraction_label(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "base-%g", f);
  return buf;
}

// The models to align: the base model, or its kept checkpoint at every base fraction.
std::vector<Target> targets(const Setup& s, const HcmaExperimentOptions& o, const BaseModel& b) {
  if (s.e().base_fractions.empty()) return {Target{"", 1, 0, o, b, {}}};
  std::vector<Target> out;
  for (std::size_t i = 0; i < s.e().base_fractions.size(); ++i) {
    Target t{fraction_label(s.e().base_fractions[i]), s.e().base_fractions[i], s.e().base_steps[i], o, b, {}};
    t.o.out = o.out + "/" + t.label;
    t.b.checkpoint = train::kept_checkpoint_path(o.out + "/base", t.step);
    if (!b.pending)
      check(file_exists(t.b.checkpoint), t.b.checkpoint,
            "missing: the base model's run kept no checkpoint at step " + std::to_string(t.step) +
                " (trained before experiment.base_fractions was set?); delete " + o.out + "/base and run again");
    for (const char* d : {"/hcma", "/aligned", "/variants"}) make_dirs(t.o.out + d);
    out.push_back(std::move(t));
  }
  return out;
}

// The matched shrinks' choices (issue 15, item 2), from their alignment reports: a, and the clean
// validation losses of the original, the matched model and the shrink. Empty without any.
std::string matched_shrink_markdown(const Setup& s, const std::vector<Variant>& variants) {
  std::string rows;
  std::string split;
  for (const auto& v : variants) {
    const auto m = s.e().matches.find(v.name);
    if (m == s.e().matches.end() || v.report_dir.empty()) continue;
    const json rep = load_json(v.report_dir + "/report.json").at("match");
    split = rep["shard"].get<std::string>();
    char line[400];
    std::snprintf(line, sizeof line, "| %s | %s | %lld | %.6f | %.4f | %.4f (%+.4f) | %.4f (%+.4f) | %s |\n", v.name.c_str(),
                  m->second.c_str(), (long long)v.seed, rep["a"].get<double>(), rep["original_val_loss"].get<double>(),
                  rep["matched_val_loss"].get<double>(), rep["target_increase"].get<double>(),
                  rep["shrink_val_loss"].get<double>(), rep["shrink_increase"].get<double>(),
                  rep["reached"].get<bool>() ? "yes" : "no");
    rows += line;
  }
  if (rows.empty()) return "";
  return "\n## Shrink matched to a method's clean-loss cost\n\nEach matched shrink's a was chosen by bisection so that "
         "its clean loss increase over the original model on the validation split (" + split +
         ") equals the matched model's (per seed; tolerance in the alignment report). Losses in nats/token.\n\n"
         "| variant | matches | seed | a | original | matched model | shrink | within tolerance |\n"
         "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows;
}

// One target's measurements, raw logs, table and report; returns its table.
std::string measure_and_tabulate(const Setup& s, const workspace::Workspace& ws, const Target& t,
                                 const std::string& base_dir) {
  const HcmaExperimentOptions& o = t.o;
  const auto results = measure_variants(s, o, ws, t.b, t.variants);
  std::string description = s.e().description;
  if (!t.label.empty())
    description += "; base model at " + std::to_string(t.step) + " steps (" + t.label.substr(5) + " of the budget)";
  const report::Experiment experiment = write_raw_logs(s, o, results, description);
  write_embedding_sample(o, ws, t.b, t.variants);

  std::string table = "# HCMA experiment\n\n" + description + ". " + std::to_string(s.e().seeds.size()) +
                      " seeds per variant (alignment seed and probe seed; abtt and whiten are deterministic, so only "
                      "the probes vary); cells are mean ± sd over seeds (perplexity: geometric mean ×/÷ "
                      "geometric sd); changes are relative to the original model, "
                      "and a verdict other than \"no significant difference\" needs the paired test over seeds "
                      "to hold after Holm's correction over " +
                      (s.e().primary_metrics.empty() ? "the table"
                                                     : "its family, the primary metrics' comparisons or all the others") +
                      " (below the table).\n\n" +
                      report::experiment_markdown(experiment);
  SuiteResults suites;
  for (const auto& [key, r] : results)
    suites[key] = HcmaSuiteResult::from_json(r, key.first + " seed " + std::to_string(key.second) + " result.json");
  const auto paired = paired_rare_recall(suites, "original", {1, 10});
  table += paired_recall_markdown(paired, suites.begin()->second.rare_ranks.below);
  table += tuning_markdown(o);
  table += matched_shrink_markdown(s, t.variants);
  std::map<std::string, std::string> measured_matches;  // the pairs this run measured both of
  for (const auto& [shrink, method] : s.e().matches)
    if (s.runs(shrink))
      measured_matches[shrink] = method;
  table += matched_robustness_markdown(matched_robustness(suites, measured_matches));
  write_file_atomic(o.out + "/hcma/table.md", table);
  std::vector<std::string> dirs = {o.out};
  if (!base_dir.empty()) dirs.push_back(base_dir);
  write_run_report(dirs, o.out);
  return table;
}

// experiment.base_fractions: each method's headline numbers (mean over seeds) at each fraction of
// the base model's budget, then every fraction's own table.
std::string fractions_table(const Setup& s, const std::vector<Target>& ts, const std::vector<std::string>& tables) {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"ppl", "ppl"}, {"frequent_ppl", "frequent ppl"}, {"rare_recall10", "rare recall@10"},
      {"loss_after_rare", "loss after rare"}, {"random_0.1", "random 0.1"}, {"fgsm_0.1", "fgsm 0.1"}};
  std::string md = "# HCMA experiment by training budget\n\n" + s.e().description +
                   ". The base model aligned and measured at each kept checkpoint (experiment.base_fractions); "
                   "cells are means over " + std::to_string(s.e().seeds.size()) +
                   " seeds (spreads and tests: each budget's own table below).\n\n| budget | step | variant |";
  for (const auto& c : columns) md += " " + c.second + " |";
  md += "\n| --- | --- | --- |";
  for (std::size_t i = 0; i < columns.size(); ++i) md += " --- |";
  md += "\n";
  std::vector<std::string> order = {"original"};
  for (const auto& [m, _] : s.methods) order.push_back(m);
  for (const auto& t : ts) {
    const json e = load_json(t.o.out + "/hcma/experiment.json");
    for (const auto& name : order) {
      md += "| " + t.label.substr(5) + " | " + std::to_string(t.step) + " | " + name + " |";
      for (const auto& c : columns) {
        double sum = 0;
        int n = 0;
        for (const auto& row : e["rows"])
          if (row["variant"] == name && row["values"].contains(c.first) && row["values"][c.first].is_number()) {
            sum += row["values"][c.first].get<double>();
            ++n;
          }
        char cell[64];
        if (n > 0)
          std::snprintf(cell, sizeof cell, " %.4g |", sum / n);
        else
          std::snprintf(cell, sizeof cell, " – |");
        md += cell;
      }
      md += "\n";
    }
  }
  for (std::size_t i = 0; i < ts.size(); ++i) md += "\n## " + ts[i].label + " (step " + std::to_string(ts[i].step) + ")\n\n" + tables[i];
  return md;
}

// The one driver behind --plan, --collect and a plain run: `recorder` is the runner of the first
// two (nullptr for a plain run).
Drive drive(const HcmaExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner, StepMode mode,
            StepRecorder* recorder) {
  HcmaExperimentOptions o = opts;
  o.out = workspace::Workspace::absolute(o.out);  // stored in every result: valid from anywhere
  Setup s = read_setup(o);
  check(s.e().base_fractions.empty() || o.model.empty(), o.config + " (experiment.base_fractions)",
        "aligns kept checkpoints of the base model the experiment trains; it cannot be used with --model");
  for (const char* d : {"/hcma", "/aligned", "/variants"}) make_dirs(o.out + d);
  const BaseModel b = base_model(s, o, ws, runner, mode);
  if (recorder) recorder->next_stage();  // the alignments read the model the train step makes
  std::vector<Target> ts = targets(s, o, b);
  for (auto& t : ts) t.variants = align_variants(s, t.o, ws, t.b, runner, mode);
  if (!s.e().tuning.empty()) {  // the grids, then (a stage later) every seed with the choice
    if (recorder) recorder->next_stage();
    std::vector<std::map<std::string, hcma::AlignOptions>> chosen;
    for (auto& t : ts) chosen.push_back(tune_methods(s, t.o, ws, t.b, runner, mode));
    if (recorder) recorder->next_stage();
    for (std::size_t i = 0; i < ts.size(); ++i) {
      auto more = align_variants(s, ts[i].o, ws, ts[i].b, runner, mode, Pass::tuned, chosen[i]);
      ts[i].variants.insert(ts[i].variants.end(), more.begin(), more.end());
    }
  }
  if (!s.e().matches.empty()) {  // the matched shrinks read the models they match: a stage later
    if (recorder) recorder->next_stage();
    for (auto& t : ts) {
      auto more = align_variants(s, t.o, ws, t.b, runner, mode, Pass::matched);
      t.variants.insert(t.variants.end(), more.begin(), more.end());
    }
  }
  if (mode == StepMode::plan) {
    write_plan(o.out, recorder->steps());
    return {"", recorder->steps()};
  }
  if (mode == StepMode::collect && !recorder->steps().empty()) fail_unfinished(o.out, recorder->steps());
  const std::string base_dir = o.model.empty() ? o.out + "/base" : "";
  std::vector<std::string> tables;
  for (const auto& t : ts) tables.push_back(measure_and_tabulate(s, ws, t, base_dir));
  std::string table = tables.front();
  if (!s.e().base_fractions.empty()) {
    table = fractions_table(s, ts, tables);
    write_file_atomic(o.out + "/hcma/table.md", table);
    std::printf("%s\nTable: %s/hcma/table.md\nReports: %s/base-*/report.html\n", table.c_str(), o.out.c_str(),
                o.out.c_str());
  } else {
    std::printf("%s\nTable: %s/hcma/table.md\nReport: %s/report.html\n", table.c_str(), o.out.c_str(), o.out.c_str());
  }
  return {table, {}};
}

}  // namespace

std::string run_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner) {
  return drive(opts, ws, runner, StepMode::run, nullptr).table;
}

std::vector<PlannedStep> plan_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws,
                                              const std::string& exe) {
  StepRecorder recorder(ws, exe);
  return drive(opts, ws, recorder, StepMode::plan, &recorder).steps;
}

std::string collect_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws,
                                    const std::string& exe) {
  StepRecorder recorder(ws, exe);
  return drive(opts, ws, recorder, StepMode::collect, &recorder).table;
}

}  // namespace structlm::experiment
