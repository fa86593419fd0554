#include "experiment/cstde_experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/error.h"
#include "core/json_numbers.h"
#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "cstde/dependency.h"
#include "cstde/prior_use.h"
#include "eval/dependency_probe.h"
#include "experiment/corpus_eval.h"
#include "experiment/cstde_documents.h"
#include "experiment/cstde_metrics.h"
#include "experiment/experiment_config.h"
#include "experiment/run_report.h"
#include "experiment/step_plan.h"
#include "eval/generate.h"
#include "eval/generation_metrics.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/experiment_logs.h"
#include "report/experiment_markdown.h"
#include "report/metrics_log.h"
#include "report/report.h"
#include "report/stats.h"
#include "text/link_cache.h"
#include "train/config.h"
#include "zoo/zoo.h"

namespace structlm::experiment {

int distance_bucket_start(int k) {
  static const std::vector<int> kDistanceBuckets = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33};
  int start = kDistanceBuckets.front();
  for (int b : kDistanceBuckets)
    if (k >= b) start = b;
  return start;
}

namespace {

struct Setup {
  ExperimentFile<CstdeSection> cfg;
  const CstdeSection& e() const { return cfg.section; }
  std::vector<std::pair<std::string, json>> variants;  // name -> its model.cstde section, baseline first
};

Setup read_setup(const CstdeExperimentOptions& o) {
  Setup s;
  s.cfg = load_cstde_config(o.config, o.seeds);
  for (const auto& [name, cstde] : s.e().variant_cstde)
    if (o.only_variants.empty() || name == "baseline" ||
        std::find(o.only_variants.begin(), o.only_variants.end(), name) != o.only_variants.end())
      s.variants.emplace_back(name, cstde);
  // The baseline first: it is the reference for every comparison, and keeps the first colour.
  std::stable_partition(s.variants.begin(), s.variants.end(), [](const auto& v) { return v.first == "baseline"; });
  return s;
}

// The run config of one (variant, seed): the file's model with the variant's cstde section. lr >
// 0 (a value of experiment.lr_sweep): that peak learning rate, min_lr scaled with it, so the
// schedule keeps its shape.
train::RunConfig run_config(const Setup& s, const std::string& variant, const json& cstde, std::int64_t seed,
                            const json& data, std::size_t vocab, double lr = 0) {
  json run = {{"model", s.cfg.file.at("model")}, {"train", s.cfg.file.at("train")}, {"data", data}};
  run["model"]["vocab_size"] = vocab;
  run["model"]["cstde"] = cstde;
  run["train"]["seed"] = std::uint64_t(seed);
  auto cfg = train::RunConfig::from_json(run, s.cfg.path + " (variant '" + variant + "')");
  if (lr > 0) {
    cfg.train.min_lr *= lr / cfg.train.lr;
    cfg.train.lr = lr;
  }
  return cfg;
}

// "0.002" for a run directory's name.
std::string lr_name(double lr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", lr);
  return buf;
}

}  // namespace

// The first throughput line includes start-up; the median keeps an interval that also ran a
// validation pass from counting.
double median_step_ms(const std::string& metrics_path, std::int64_t tokens_per_step) {
  std::vector<double> tps;
  for (const auto& line : report::read_metrics(metrics_path))
    if (!std::isnan(line.tokens_per_s)) tps.push_back(line.tokens_per_s);
  if (tps.size() > 1) tps.erase(tps.begin());
  if (tps.empty()) fail(metrics_path, "no tokens_per_s lines: cannot time the steps");
  return 1000.0 * double(tokens_per_step) / report::median(tps);
}

namespace {

struct Shared {  // what every run is measured on
  std::string tok_dir;
  text::Tokenizer tok;
  std::vector<text::LinkedSentence> linked;
  std::vector<int> reference_lengths;
};

// One generation per (prompt, sample seed) under one fixed decoder. Sentence lengths are counted
// on prompt + continuation, and the last sentence is dropped when the continuation was cut by the
// token limit (its length would be the limit's, not the model's).
GenerationResult measure_generation(model::GPT& net, const Shared& sh, const Setup& s) {
  const ExperimentSample& sample = s.e().sample;
  eval::SampleOptions sopt;
  sample.decoder.apply(sopt);
  const std::vector<std::uint64_t>& seeds = sample.seeds;
  std::vector<std::string> continuations;
  std::vector<int> lengths;
  for (const auto& p : s.e().prompts)
    for (auto seed : seeds) {
      sopt.seed = seed;
      sopt.eot_id = sh.tok.eot();
      sopt.vocab_limit = std::int64_t(sh.tok.vocab_size());
      auto prompt_ids = sh.tok.encode(p);
      auto ids = eval::sample_tokens(net, prompt_ids, sopt);
      const bool cut = int(ids.size()) >= sopt.max_new_tokens;
      auto text = sh.tok.decode(ids);
      continuations.push_back(text);
      auto l = eval::sentence_lengths(p + text);
      if (cut && !l.empty()) l.pop_back();
      lengths.insert(lengths.end(), l.begin(), l.end());
    }
  auto m = eval::measure_generations(continuations);
  return {m.distinct1, m.distinct2, m.distinct3, m.mtld, m.seq_rep4, m.texts, lengths, continuations};
}

// Everything measured on one trained run (its result.json).
CstdeRunResult measure_run(const std::string& dir, const train::RunConfig& cfg, const std::string& variant,
                           std::int64_t seed, const Shared& sh, const Setup& s, const workspace::Workspace& ws,
                           const ChildUsage& usage) {
  auto net = zoo::load_model(dir + "/checkpoints/latest.safetensors");
  CorpusEvalOptions eopt;
  eopt.corpora = s.e().eval_corpora;
  eopt.tokenizer = sh.tok_dir;
  eopt.max_tokens = s.e().eval_max_tokens;
  eopt.xz = false;
  eopt.documents = true;  // the table's bootstrap over evaluation documents
  CstdeRunResult r;
  r.eval = evaluate_corpora(net, ws, eopt);
  save_json(dir + "/eval.json", corpus_scores_json(r.eval));

  auto probe = eval::probe_dependencies(net, sh.tok, sh.linked);
  std::map<int, eval::DistanceLoss> buckets;
  for (const auto& [k, dl] : probe.loss_by_distance) {
    auto& b = buckets[distance_bucket_start(k)];
    b.loss_sum += dl.loss_sum;
    b.tokens += dl.tokens;
    b.hits_attention += dl.hits_attention;
    b.hits_dependency += dl.hits_dependency;
    b.hits_adjacent += dl.hits_adjacent;
    b.hits_random += dl.hits_random;
  }
  for (const auto& [k, b] : buckets) {
    const double n = double(b.tokens);
    DistanceBucket d{k, b.loss_sum / n, b.tokens, double(b.hits_attention) / n, double(b.hits_adjacent) / n,
                     b.hits_random / n, std::nullopt};
    if (probe.uas_dependency >= 0) d.uas_dependency = double(b.hits_dependency) / n;
    r.loss_by_distance.push_back(d);
  }

  const std::int64_t tokens_per_step = cfg.train.batch_size * cfg.train.grad_accum * cfg.model.block_size;
  r.variant = variant;
  r.seed = seed;
  r.params = cfg.model.num_params();
  r.step_ms = median_step_ms(dir + "/metrics.jsonl", tokens_per_step);
  r.curve = report::validation_curve(dir + "/metrics.jsonl", double(tokens_per_step));
  r.peak_rss_mib = usage.peak_rss_mib;
  r.train_wall_s = usage.wall_s;
  r.sentences_probed = probe.sentences;
  r.tokens_with_partner = probe.tokens_with_partner;
  r.uas_attention = probe.uas_attention;
  if (probe.uas_dependency >= 0) r.uas_dependency = probe.uas_dependency;
  r.uas_adjacent = probe.uas_adjacent;
  r.uas_random = probe.uas_random;
  const auto use = cstde::prior_use(*net);  // beta, gamma (cstde/prior_use.h)
  r.prior_weight = use.prior_weight;
  r.carry_gate = use.carry_gate;
  r.generation = measure_generation(net, sh, s);
  return r;
}


}  // namespace


namespace {

// Data, tokenizer, reference sentences: shared by every run. The held-out sentences of the first
// training corpus's test split are parsed by link-grammar once and cached next to the corpus;
// their sentence lengths are the generation reference.
Shared prepare_shared(const Setup& s, const CstdeExperimentOptions& o, const workspace::Workspace& ws, json& data) {
  const std::size_t vocab = s.e().vocab_size;
  for (const auto& c : s.e().eval_corpora) ws.prepare_corpus(c);
  Shared sh;
  sh.tok_dir = o.out + "/tokenizer";
  ws.ensure_trained_tokenizer(s.e().train_corpora, vocab, sh.tok_dir);
  sh.tok = ws.load_tokenizer(sh.tok_dir);
  data = ws.training_data_section(s.e().train_corpora, sh.tok_dir);
  for (const auto& c : s.e().eval_corpora) ws.ensure_shards(c, sh.tok_dir);
  const auto ref_corpus = ws.prepare_corpus(s.e().train_corpora.front());
  std::vector<std::string> test_texts;
  for (const auto& d : ref_corpus.test) {
    test_texts.push_back(d.text);
    auto l = eval::sentence_lengths(d.text);
    sh.reference_lengths.insert(sh.reference_lengths.end(), l.begin(), l.end());
  }
  text::SentenceSelection sel;
  sel.max_sentences = s.e().link_sentences;
  sh.linked = text::parse_sentences(text::select_sentences(test_texts, sel), ws.corpus_dir(s.e().train_corpora.front()));
  return sh;
}

// Equal parameter count within ±2 % (docs/METHODS.md §1c), checked before any training.
void check_parameter_counts(const Setup& s, const json& data, std::size_t vocab) {
  const auto base_cfg = run_config(s, "baseline", s.variants.front().second, s.e().seeds.front(), data, vocab);
  for (const auto& [name, sw] : s.variants) {
    const auto c = run_config(s, name, sw, s.e().seeds.front(), data, vocab);
    const double rel = double(c.model.num_params()) / double(base_cfg.model.num_params()) - 1;
    std::fprintf(stderr, "experiment: %-10s %lld parameters (%+.2f%% vs baseline)\n", name.c_str(),
                 (long long)c.model.num_params(), 100 * rel);
    check(std::abs(rel) <= 0.02, s.cfg.path,
          "variant '" + name + "' has " + std::to_string(100 * rel) +
              "% more parameters than the baseline; the comparison needs ±2% (lower cstde.rank or widen the model)");
  }
}

using Results = std::map<std::pair<std::string, std::int64_t>, CstdeRunResult>;

// lr > 0: a run of experiment.lr_sweep at that learning rate (the table's runs are those at each
// variant's chosen one).
std::string run_dir_of(const CstdeExperimentOptions& o, const std::string& variant, std::int64_t seed, double lr = 0) {
  return o.out + "/runs/" + variant + (lr > 0 ? "-lr" + lr_name(lr) : "") + "-seed" + std::to_string(seed);
}

// Each variant's learning rate: chosen on validation from experiment.lr_sweep, or none (0: the
// file's train.lr).
using LrChoice = std::map<std::string, double>;
double lr_of(const LrChoice& choice, const std::string& variant) {
  auto it = choice.find(variant);
  return it == choice.end() ? 0 : it->second;
}

// Starts (or resumes) one run's train step through `runner`: what it trains is in
// RUN/requested_config.json.
ChildUsage start_training(const std::string& dir, const train::RunConfig& cfg, StepRunner& runner) {
  make_dirs(dir);
  save_json(dir + "/requested_config.json", cfg.to_json());
  // --auto-resume: the child resumes when a checkpoint is there, so a planned command rerun by
  // a requeued job continues rather than being refused.
  return runner.train({dir + "/requested_config.json", dir, "", {}, {}, /*resume=*/false, /*auto_resume=*/true});
}

// Seeds outermost: each seed trains every variant back to back, so slow phases of a shared
// machine fall on all variants alike rather than on one. With a StepRecorder (--plan, --collect)
// a run whose training is not finished is recorded, not trained, and a run trained by its
// planned step is measured with the cost that step recorded.
Results train_and_measure(const Setup& s, const CstdeExperimentOptions& o, const workspace::Workspace& ws,
                          const Shared& sh, const json& data, const LrChoice& lrs, StepRunner& runner, StepMode mode) {
  Results results;
  const std::size_t total = s.variants.size() * s.e().seeds.size();
  std::size_t done = 0;
  for (auto seed : s.e().seeds)
    for (const auto& [name, sw] : s.variants) {
      ++done;
      const double lr = lr_of(lrs, name);
      const std::string dir = run_dir_of(o, name, seed, lr);
      const std::string result_path = dir + "/result.json";
      if (file_exists(result_path)) {
        results[{name, seed}] = CstdeRunResult::from_json(load_json(result_path), result_path);
        std::fprintf(stderr, "experiment: [%zu/%zu] %s seed %lld: done earlier\n", done, total, name.c_str(), (long long)seed);
        continue;
      }
      auto cfg = run_config(s, name, sw, seed, data, sh.tok.vocab_size(), lr);
      ChildUsage usage;
      if (mode == StepMode::run && lr > 0 && trained_model_present(dir, cfg.train)) {
        // Trained by the learning-rate sweep on this seed: measured as it is, with its step's cost.
        std::fprintf(stderr, "experiment: [%zu/%zu] %s seed %lld: trained by the lr sweep\n", done, total, name.c_str(),
                     (long long)seed);
        usage = recorded_train_usage(dir);
      } else if (mode == StepMode::run) {
        // A sweep run restored from its kept files has no checkpoint to measure: trained again.
        std::fprintf(stderr, "experiment: [%zu/%zu] training %s seed %lld%s\n", done, total, name.c_str(), (long long)seed,
                     training_finished(dir, cfg.train) ? " (its checkpoint is gone: trained again to measure it)" : "");
        usage = start_training(dir, cfg, runner);
        if (usage.exit_code != 0)
          fail(dir, "training " + name + " seed " + std::to_string(seed) + " failed (exit " +
                        std::to_string(usage.exit_code) + "); rerun the experiment to resume it");
      } else if (!trained_model_present(dir, cfg.train)) {
        start_training(dir, cfg, runner);  // recorded
        continue;
      } else if (mode == StepMode::plan && !o.measure_finished) {
        continue;  // trained: --collect measures it
      } else if (mode == StepMode::plan) {
        std::fprintf(stderr, "experiment: [%zu/%zu] %s seed %lld: trained by its step, measured now (--measure)\n", done,
                     total, name.c_str(), (long long)seed);
        usage = recorded_train_usage(dir);
      } else {
        std::fprintf(stderr, "experiment: [%zu/%zu] %s seed %lld: trained by its step\n", done, total, name.c_str(),
                     (long long)seed);
        usage = recorded_train_usage(dir);
      }
      auto r = measure_run(dir, cfg, name, seed, sh, s, ws, usage);
      save_json(result_path, r.to_json());
      results[{name, seed}] = r;
    }
  return results;
}

// E1's learning-rate choice (experiment.lr_sweep): every variant trains at every rate on its first
// lr_sweep_seeds seeds (train only: the sweep's runs are not measured unless chosen); each keeps
// the rate whose runs end with the lowest mean validation loss (ties: the earlier rate in the
// list). A sweep run counts once its train step has ended (training_finished: its kept files
// suffice, no checkpoint needed). Written to OUT/cstde/lr_choice.json. With a recorder (--plan,
// --collect) the unfinished sweep runs are recorded and the choice is nullopt until every one of
// them has finished.
std::optional<LrChoice> choose_learning_rates(const Setup& s, const CstdeExperimentOptions& o, const Shared& sh,
                                              const json& data, StepRunner& runner, StepMode mode) {
  const auto& e = s.e();
  bool complete = true;
  json record = json::object();
  LrChoice choice;
  for (const auto& [name, sw] : s.variants) {
    double best_loss = 0, best_lr = 0;
    json losses = json::object();
    for (double lr : e.lr_sweep) {
      double sum = 0;
      for (std::size_t k = 0; k < e.lr_sweep_seeds; ++k) {
        const auto seed = e.seeds[k];
        const std::string dir = run_dir_of(o, name, seed, lr);
        const auto cfg = run_config(s, name, sw, seed, data, sh.tok.vocab_size(), lr);
        if (!training_finished(dir, cfg.train)) {
          if (mode != StepMode::run) {
            start_training(dir, cfg, runner);  // recorded
            complete = false;
            continue;
          }
          std::fprintf(stderr, "experiment: lr sweep: training %s at lr %s, seed %lld\n", name.c_str(), lr_name(lr).c_str(),
                       (long long)seed);
          const ChildUsage usage = start_training(dir, cfg, runner);
          if (usage.exit_code != 0)
            fail(dir, "training " + name + " at lr " + lr_name(lr) + " seed " + std::to_string(seed) + " failed (exit " +
                          std::to_string(usage.exit_code) + "); rerun the experiment to resume it");
        }
        const auto curve = report::validation_curve(dir + "/metrics.jsonl", 1);
        check(!curve.empty(), dir + "/metrics.jsonl",
              "no validation loss: the learning-rate choice needs the training corpora's validation split");
        sum += curve.back().loss;
      }
      if (!complete) continue;
      const double mean = sum / double(e.lr_sweep_seeds);
      losses[lr_name(lr)] = mean;
      if (best_lr == 0 || mean < best_loss) best_loss = mean, best_lr = lr;
    }
    if (!complete) continue;
    choice[name] = best_lr;
    record[name] = {{"chosen", best_lr}, {"val_loss", losses}};
  }
  if (!complete) return std::nullopt;
  save_json(o.out + "/cstde/lr_choice.json",
            {{"lr_sweep", e.lr_sweep}, {"seeds", std::vector<std::int64_t>(e.seeds.begin(), e.seeds.begin() + std::ptrdiff_t(e.lr_sweep_seeds))},
             {"variants", record}});
  return choice;
}

// The choice as a paragraph of the table.
std::string lr_choice_text(const Setup& s, const LrChoice& choice, const std::string& out) {
  if (choice.empty()) return "";
  const json j = load_json(out + "/cstde/lr_choice.json");
  std::string t = "Learning rate of each variant, chosen on validation among";
  for (double lr : s.e().lr_sweep) t += " " + lr_name(lr);
  t += " (the lowest final validation loss, mean over the first " + std::to_string(s.e().lr_sweep_seeds) +
       " seed(s); every seed then trains at it):";
  for (const auto& [name, sw] : s.variants) {
    t += " " + name + " " + lr_name(choice.at(name)) + " (";
    bool first = true;
    for (double lr : s.e().lr_sweep) {
      t += std::string(first ? "" : ", ") + lr_name(lr) + ": " + report::format_number(j["variants"][name]["val_loss"][lr_name(lr)].get<double>(), 4);
      first = false;
    }
    t += ");";
  }
  t.back() = '.';
  return t + "\n\n";
}

// --collect: every run finished, or an error listing each unfinished one with its command,
// before anything is measured.
void check_all_finished(const Setup& s, const CstdeExperimentOptions& o, const Shared& sh, const json& data,
                        const LrChoice& lrs, StepRecorder& recorder) {
  for (auto seed : s.e().seeds)
    for (const auto& [name, sw] : s.variants) {
      const std::string dir = run_dir_of(o, name, seed, lr_of(lrs, name));
      if (file_exists(dir + "/result.json")) continue;
      const auto cfg = run_config(s, name, sw, seed, data, sh.tok.vocab_size(), lr_of(lrs, name));
      if (!trained_model_present(dir, cfg.train)) start_training(dir, cfg, recorder);
    }
  if (!recorder.steps().empty()) fail_unfinished(o.out, recorder.steps());
}

std::vector<std::string> variant_names(const Setup& s) {
  std::vector<std::string> names;
  for (const auto& [name, sw] : s.variants) names.push_back(name);
  return names;
}

std::vector<std::string> eval_corpus_names(const Setup& s, const workspace::Workspace& ws) {
  std::vector<std::string> names;
  for (const auto& c : s.e().eval_corpora) names.push_back(ws.corpus_name(c));
  return names;
}

// experiment.json, loss_by_distance.jsonl, sentence_lengths.jsonl (docs/REPORT.md), from the
// typed results through the typed log lines of report/experiment_logs.h.
report::Experiment write_raw_logs(const Setup& s, const CstdeExperimentOptions& o, const workspace::Workspace& ws, const Shared& sh,
                    const Results& results) {
  report::Experiment e;
  e.name = "cstde";
  e.description = s.e().description;
  e.baseline = "baseline";
  e.metrics = cstde_metrics(eval_corpus_names(s, ws));
  std::vector<report::LossLine> by_distance, curves;
  std::vector<report::LengthSample> lengths(1);
  lengths[0].corpus = ws.corpus_name(s.e().train_corpora.front());
  lengths[0].lengths.assign(sh.reference_lengths.begin(), sh.reference_lengths.end());
  for (const auto& [name, sw] : s.variants)
    for (auto seed : s.e().seeds) {
      const CstdeRunResult& r = results.at({name, seed});
      e.rows.push_back({name, seed, cstde_table_values(r, results.at({"baseline", seed}), sh.reference_lengths)});
      for (const auto& b : r.loss_by_distance)
        by_distance.push_back({"", name, seed, b.distance, b.loss, (long long)b.tokens});
      for (const auto& c : r.curve) curves.push_back({"", name, seed, std::llround(c.tokens), c.loss, std::llround(c.tokens)});
      // A seed whose generations hold no complete sentence has no length sample (the table's
      // W1 cell is then "not measured" for it).
      const auto& g = r.generation.sentence_lengths;
      if (!g.empty()) lengths.push_back({name, "", seed, std::vector<double>(g.begin(), g.end())});
    }
  // The config's contrasts between arms; with --variants, those whose two variants both ran.
  auto ran = [&](const std::string& v) {
    return std::any_of(s.variants.begin(), s.variants.end(), [&](const auto& x) { return x.first == v; });
  };
  for (const auto& c : s.e().contrasts)
    if (ran(c[0]) && ran(c[1])) e.contrasts.emplace_back(c[0], c[1]);
  e.primary_metrics = s.e().primary_metrics;  // Holm within the primary and the secondary family
  e.path = o.out + "/cstde/experiment.json";
  e.check();  // what the report will refuse when it reads the file back is refused before writing it
  save_json(e.path, e.to_json());
  write_file_atomic(o.out + "/cstde/loss_by_distance.jsonl", report::jsonl_text(by_distance, "distance"));
  if (!curves.empty())  // every run validates at least at its end; results from before have no curve
    write_file_atomic(o.out + "/cstde/learning_curves.jsonl", report::jsonl_text(curves, "training_tokens"));
  write_file_atomic(o.out + "/cstde/sentence_lengths.jsonl", report::jsonl_text(lengths));
  return e;
}

}  // namespace

namespace {

struct Drive {
  std::string table;               // run and collect
  std::vector<PlannedStep> steps;  // plan
};

// The one driver behind --plan, --collect and a plain run: `recorder` is the runner of the first
// two (nullptr for a plain run).
Drive drive(const CstdeExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner, StepMode mode,
            StepRecorder* recorder) {
  CstdeExperimentOptions o = opts;
  o.out = workspace::Workspace::absolute(o.out);  // stored in every run: valid from anywhere
  Setup s = read_setup(o);
  // The primary metrics against the whole catalogue, eval corpora named: refused now, not hours in.
  report::check_primary_metrics(s.e().primary_metrics, cstde_metrics(eval_corpus_names(s, ws)),
                                s.cfg.path + " (experiment)");
  make_dirs(o.out + "/runs");
  make_dirs(o.out + "/cstde");
  json data;
  // --plan prepares everything too: the planned steps read the tokenizer and shards made here.
  const Shared sh = prepare_shared(s, o, ws, data);
  check_parameter_counts(s, data, sh.tok.vocab_size());
  LrChoice lrs;
  if (!s.e().lr_sweep.empty()) {
    const auto choice = choose_learning_rates(s, o, sh, data, runner, mode);
    if (!choice) {  // --plan or --collect before the sweep has finished: its runs are the plan
      if (mode == StepMode::collect) fail_unfinished(o.out, recorder->steps());
      write_plan(o.out, recorder->steps());
      std::fprintf(stderr, "experiment: the learning-rate sweep comes first; once its runs have finished, --plan "
                           "again lists the runs at each variant's chosen rate\n");
      return {"", recorder->steps()};
    }
    lrs = *choice;
  }
  if (mode == StepMode::collect) check_all_finished(s, o, sh, data, lrs, *recorder);
  const Results results = train_and_measure(s, o, ws, sh, data, lrs, runner, mode);
  if (mode == StepMode::plan) {
    write_plan(o.out, recorder->steps());
    return {"", recorder->steps()};
  }
  const report::Experiment experiment = write_raw_logs(s, o, ws, sh, results);

  const std::string description = s.e().description;
  const std::string table = "# CSTDE experiment\n\n" + description + ". " + std::to_string(s.e().seeds.size()) +
                            " seeds per variant; cells are mean ± sd over seeds (perplexities and ratios: geometric " +
                            "mean ×/÷ geometric sd); " +
                            "changes are relative to the baseline's mean; a verdict other than \"no significant " +
                            "difference\" needs the paired test over seeds to hold after Holm's correction over " +
                            (s.e().primary_metrics.empty()
                                 ? "the table"
                                 : "its family, the primary metrics' comparisons or all the others") +
                            " (below the table).\n\n" + lr_choice_text(s, lrs, o.out) +
                            report::experiment_markdown(experiment) +
                            document_paired_markdown(document_paired_rows(results, variant_names(s), s.e().seeds));
  write_file_atomic(o.out + "/cstde/table.md", table);

  std::vector<std::string> dirs = {o.out};
  for (auto seed : s.e().seeds)
    for (const auto& [name, sw] : s.variants) dirs.push_back(run_dir_of(o, name, seed, lr_of(lrs, name)));
  auto files = write_run_report(dirs, o.out);
  std::printf("%s\nTable: %s/cstde/table.md\nReport: %s\n", table.c_str(), o.out.c_str(), files.html.c_str());
  return {table, {}};
}

}  // namespace

std::string run_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner) {
  return drive(opts, ws, runner, StepMode::run, nullptr).table;
}

std::vector<PlannedStep> plan_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws,
                                               const std::string& exe) {
  StepRecorder recorder(ws, exe);
  return drive(opts, ws, recorder, StepMode::plan, &recorder).steps;
}

std::string collect_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws,
                                     const std::string& exe) {
  StepRecorder recorder(ws, exe);
  return drive(opts, ws, recorder, StepMode::collect, &recorder).table;
}

}  // namespace structlm::experiment
