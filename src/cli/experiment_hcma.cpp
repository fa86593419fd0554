#include "cli/experiment_hcma.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "align/align.h"
#include "align/frozen_check.h"
#include "cli/hcma_suite.h"
#include "cli/run_files.h"
#include "cli/workspace.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "core/subprocess.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/experiment_logs.h"
#include "report/experiment_markdown.h"
#include "report/report.h"
#include "train/config.h"

namespace structlm::cli {

namespace {

struct Setup {
  json file, experiment;
  std::string path;
  std::vector<std::string> train_corpora;
  std::string calibration;            // corpus whose train split calibrates (and counts frequencies)
  std::vector<std::int64_t> seeds;
  json align;                          // options shared by every method
  std::vector<std::pair<std::string, json>> methods;  // variant name -> its alignment options, config order
  json suite;
};

Setup read_setup(const HcmaExperimentOptions& o) {
  Setup s;
  s.path = o.config;
  auto cfg = load_experiment_config(o.config, o.seeds);
  s.file = cfg.file;
  s.experiment = cfg.experiment;
  s.seeds = cfg.seeds;
  try {
    s.train_corpora = s.experiment.at("train_corpora").get<std::vector<std::string>>();
  } catch (const json::exception&) {
    fail(o.config, "experiment field 'train_corpora' must be a list of corpus names");
  }
  check(!s.train_corpora.empty(), o.config, "experiment field 'train_corpora' must not be empty");
  s.calibration = s.experiment.value("calibration", s.train_corpora.front());
  s.align = s.experiment.value("align", json::object());
  s.suite = s.experiment.value("suite", json::object());
  check(s.align.is_object() && s.suite.is_object(), o.config, "'align' and 'suite' must be objects");
  check(s.experiment.contains("methods") && s.experiment["methods"].is_object(), o.config,
        "experiment field 'methods' must be an object: variant name -> its options");
  for (auto it = s.experiment["methods"].begin(); it != s.experiment["methods"].end(); ++it) {
    if (!o.only_methods.empty() &&
        std::find(o.only_methods.begin(), o.only_methods.end(), it.key()) == o.only_methods.end())
      continue;
    check(it.value().is_object(), o.config, "method '" + it.key() + "' must map to an object of options");
    // A variant is named by its key; its method is the key too unless it says otherwise
    // ("hcma-lm": {"method": "hcma", "lambda_lm": 1}), so one method can appear with several settings.
    json opts = s.align;
    opts["method"] = it.key();
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) opts[kv.key()] = kv.value();
    align::AlignOptions::from_json(opts, o.config + " (method '" + it.key() + "')");  // fail early, before training
    s.methods.emplace_back(it.key(), opts);
  }
  // JSON objects come back sorted by key; HCMA's variants go first, so they keep the first colours
  // after the original model and lead every table.
  std::stable_partition(s.methods.begin(), s.methods.end(), [](const auto& m) { return m.second["method"] == "hcma"; });
  return s;
}

HcmaSuiteOptions suite_options(const Setup& s, const std::string& data_dir, const std::string& tokenizer,
                               const std::vector<std::string>& frequency_shards, std::uint64_t seed) {
  HcmaSuiteOptions h;
  const json& j = s.suite;
  const std::string where = s.path + " (experiment.suite)";
  check_known_keys(j, {"corpus", "long_corpus", "split", "recall_tokens", "position_windows", "eps", "attack_windows",
                       "token_attack_sequences", "agreement_per_count", "kv_trials", "stability_tokens", "speed",
                       "frequency_tokens"},
                   where);
  read_field(j, "corpus", h.corpus, where);
  read_field(j, "long_corpus", h.long_corpus, where);
  read_field(j, "split", h.split, where);
  read_field(j, "recall_tokens", h.recall_tokens, where);
  read_field(j, "position_windows", h.position_windows, where);
  read_field(j, "eps", h.eps, where);
  read_field(j, "attack_windows", h.attack_windows, where);
  read_field(j, "token_attack_sequences", h.token_attack_sequences, where);
  read_field(j, "agreement_per_count", h.agreement_per_count, where);
  read_field(j, "kv_trials", h.kv_trials, where);
  read_field(j, "stability_tokens", h.stability_tokens, where);
  read_field(j, "speed", h.speed, where);
  read_field(j, "frequency_tokens", h.frequency_tokens, where);
  h.data_dir = data_dir;
  h.tokenizer = tokenizer;
  h.frequency_shards = frequency_shards;
  h.seed = seed;
  return h;
}

struct Column {
  const char* key;
  const char* label;
  bool lower_is_better;
  int digits;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> c = {
      {"rare_recall10", "rare-token recall@10 (targets seen < 100 times)", false, 4},
      {"rare_recall1", "rare-token recall@1 (< 100)", false, 4},
      {"recall10_lt10", "recall@10, targets seen < 10 times", false, 4},
      {"recall10_10_99", "recall@10, targets seen 10-99 times", false, 4},
      {"frequent_recall10", "recall@10, targets seen >= 1000 times", false, 4},
      {"frequent_ppl", "frequent-token perplexity (targets >= 1000)", true, 3},
      {"ppl", "perplexity, all targets", true, 3},
      {"random_0.1", "loss increase, random embedding noise eps 0.1", true, 4},
      {"fgsm_0.1", "loss increase, gradient-sign eps 0.1", true, 4},
      {"typo_2", "loss increase, 2 typos", true, 4},
      {"hotflip_2", "loss increase, 2 HotFlip substitutions", true, 4},
      {"agreement_0", "agreement accuracy, 0 attractors", false, 3},
      {"agreement_4", "agreement accuracy, 4 attractors", false, 3},
      {"agreement_mean", "agreement accuracy, mean over 0-4", false, 3},
      {"kv_recall", "key-value recall@1, mean over distances", false, 3},
      {"late_loss", "loss in the second half of the context", true, 4},
      {"self_similarity_adj", "self-similarity across contexts (minus baseline)", false, 4},
      {"knn_overlap", "k-NN overlap across contexts", false, 4},
      {"isotropy", "isotropy I(W)", false, 4},
      {"isoscore", "IsoScore of E", false, 4},
      {"wordnet_hits10", "WordNet hits@10", false, 4},
      {"tokens_per_s", "inference tokens/s", false, 0},
      {"parameter_mib", "parameter memory (MiB)", true, 1},
      {"align_wall_s", "alignment wall time (s)", true, 1},
      {"align_peak_rss_mib", "alignment peak RSS (MiB)", true, 0},
  };
  return c;
}

std::string seed_dir(const std::string& base, const std::string& name, std::int64_t seed) {
  return base + "/" + name + "-seed" + std::to_string(seed);
}

bool deterministic(const json& opts) { return opts["method"] == "abtt" || opts["method"] == "whiten"; }

}  // namespace

void run_hcma_experiment(const HcmaExperimentOptions& o) {
  Setup s = read_setup(o);
  make_dirs(o.out + "/hcma");
  make_dirs(o.out + "/aligned");
  make_dirs(o.out + "/variants");
  const std::string exe = self_exe();

  // The model: trained here on the training corpora with its own tokenizer, or given.
  std::string model_path, tokenizer;
  std::vector<std::string> frequency_shards;
  if (!o.model.empty()) {
    auto files = resolve_run(o.model, o.tokenizer);
    model_path = files.checkpoint;
    tokenizer = files.tokenizer;
    frequency_shards = {ensure_shards(o.data_dir, s.calibration, tokenizer).train};
  } else {
    tokenizer = o.out + "/tokenizer";
    ensure_trained_tokenizer(o.data_dir, s.train_corpora, s.experiment.value("vocab_size", std::size_t(4096)), tokenizer);
    json data = training_data_section(o.data_dir, s.train_corpora, tokenizer);
    frequency_shards = data["train_shards"].get<std::vector<std::string>>();
    const std::string base = o.out + "/base";
    model_path = base + "/checkpoints/latest.safetensors";
    if (!file_exists(base + "/done")) {
      json run = {{"model", s.file.at("model")}, {"train", s.file.at("train")}, {"data", data}};
      run["model"]["vocab_size"] = load_tokenizer(tokenizer).vocab_size();
      if (o.threads > 0) run["train"]["threads"] = o.threads;
      auto cfg = train::RunConfig::from_json(run, s.path);
      make_dirs(base);
      save_json(base + "/requested_config.json", cfg.to_json());
      std::vector<std::string> argv = {exe, "train", "--config", base + "/requested_config.json", "--run-dir", base};
      if (file_exists(model_path)) argv.push_back("--resume");
      std::fprintf(stderr, "experiment hcma: training the model (%s)\n", base.c_str());
      auto usage = run_attached(argv);
      if (usage.exit_code != 0)
        fail(base, "training failed (exit " + std::to_string(usage.exit_code) + "); rerun the experiment to resume it");
      write_file_atomic(base + "/done", "");
    }
  }
  const std::string calib_shard = ensure_shards(o.data_dir, s.calibration, tokenizer).train;
  const auto source = model::read_checkpoint(model_path);

  // Aligned checkpoints: one per (method, seed), or one per method when it has no randomness.
  struct Variant {
    std::string name, checkpoint, report_dir;
    std::int64_t seed;
    ChildUsage usage;
  };
  std::vector<Variant> variants;
  for (auto seed : s.seeds) variants.push_back({"original", model_path, "", seed, {}});
  const std::size_t total = s.methods.size() * s.seeds.size();
  std::size_t done = 0;
  for (auto seed : s.seeds)
    for (const auto& [method, opts] : s.methods) {
      ++done;
      const std::string stem = deterministic(opts) ? o.out + "/aligned/" + method : seed_dir(o.out + "/aligned", method, seed);
      Variant v{method, stem + ".safetensors", stem + ".align", seed, {}};
      const std::string usage_path = v.report_dir + "/usage.json";
      if (!file_exists(usage_path)) {
        std::fprintf(stderr, "experiment hcma: [%zu/%zu] align %s seed %lld\n", done, total, method.c_str(), (long long)seed);
        make_dirs(v.report_dir);
        json j = opts;
        j["seed"] = seed;
        save_json(v.report_dir + "/options.json", j);
        std::vector<std::string> argv = {exe, "align", "--model", model_path, "--calib", calib_shard, "--out", v.checkpoint,
                                         "--config", v.report_dir + "/options.json", "--tokenizer", tokenizer,
                                         "--report", v.report_dir, "--threads", std::to_string(o.threads)};
        auto usage = run_attached(argv);
        if (usage.exit_code != 0)
          fail(v.checkpoint, "alignment " + method + " seed " + std::to_string(seed) + " failed (exit " +
                                 std::to_string(usage.exit_code) + ")");
        // The guarantee, checked on the written files before anything is measured.
        auto bad = align::frozen_weight_violations(source, model::read_checkpoint(v.checkpoint));
        if (!bad.empty()) fail(v.checkpoint, "changes more than the input table: " + bad.front());
        save_json(usage_path, {{"wall_s", usage.wall_s}, {"peak_rss_mib", usage.peak_rss_mib}, {"frozen_weights_ok", true}});
      }
      json u = load_json(usage_path);
      v.usage.wall_s = u["wall_s"];
      v.usage.peak_rss_mib = u["peak_rss_mib"];
      variants.push_back(v);
    }

  // Every variant measured under each seed's probes, in this process.
  model::init_threads(o.threads);
  std::map<std::pair<std::string, std::int64_t>, json> results;
  std::size_t measured = 0;
  for (const auto& v : variants) {
    ++measured;
    const std::string dir = seed_dir(o.out + "/variants", v.name, v.seed);
    const std::string path = dir + "/result.json";
    if (!file_exists(path)) {
      std::fprintf(stderr, "experiment hcma: [%zu/%zu] measuring %s seed %lld\n", measured, variants.size(), v.name.c_str(),
                   (long long)v.seed);
      auto net = model::load_model(v.checkpoint);
      json r = run_hcma_suite(net, suite_options(s, o.data_dir, tokenizer, frequency_shards, std::uint64_t(v.seed)));
      r["variant"] = v.name;
      r["checkpoint"] = v.checkpoint;
      r["summary"] = hcma_summary(r);
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

  // Raw logs (docs/REPORT.md) and the table.
  json metrics = json::array();
  for (const auto& c : columns())
    metrics.push_back({{"key", c.key}, {"label", c.label}, {"lower_is_better", c.lower_is_better}, {"digits", c.digits}});
  json rows = json::array();
  std::string recall, attacks, positions;
  std::vector<std::string> order = {"original"};
  for (const auto& [m, _] : s.methods) order.push_back(m);
  for (const auto& name : order)
    for (auto seed : s.seeds) {
      const json& r = results.at({name, seed});
      json values = json::object();
      for (const auto& c : columns()) values[c.key] = r["summary"].value(c.key, json(nullptr));
      rows.push_back({{"variant", name}, {"seed", seed}, {"values", values}});
      for (const auto& x : r["recall"])
        if (x["recall"].is_number())
          recall += json({{"variant", name}, {"seed", seed}, {"k", x["k"]}, {"bucket", x["bucket"]},
                          {"min_count", x["min_count"]}, {"recall", x["recall"]}, {"targets", x["targets"]}}).dump() + "\n";
      for (const auto& a : r["attacks"])
        attacks += json({{"variant", name}, {"seed", seed}, {"attack", a["attack"]}, {"strength", a["strength"]},
                         {"loss_increase", a["loss_increase"]}, {"flip_rate", a["flip_rate"]}}).dump() + "\n";
      for (const auto& p : r["loss_by_position"])
        if (p["loss"].is_number())
          positions += json({{"variant", name}, {"seed", seed}, {"position", p["position"]}, {"loss", p["loss"]},
                             {"tokens", p["tokens"]}}).dump() + "\n";
    }
  const std::string description = s.experiment.value("description", std::string("HCMA vs baselines on one frozen model"));
  json experiment = {{"experiment", "hcma"}, {"description", description}, {"baseline", "original"},
                     {"metrics", metrics}, {"rows", rows}};
  save_json(o.out + "/hcma/experiment.json", experiment);
  write_file_atomic(o.out + "/hcma/rare_recall.jsonl", recall);
  write_file_atomic(o.out + "/hcma/attack.jsonl", attacks);
  write_file_atomic(o.out + "/hcma/loss_by_position.jsonl", positions);

  // The embedding before and after HCMA (the first seed), on a sample of clustered tokens.
  const auto hcma_it = std::find_if(variants.begin(), variants.end(), [](const Variant& v) { return v.name == "hcma"; });
  if (hcma_it != variants.end()) {
    json rep = load_json(hcma_it->report_dir + "/report.json");
    auto after = model::read_checkpoint(hcma_it->checkpoint).tensors.at("wte.weight");
    auto before = source.tensors.at("wte.weight");
    const auto tok = load_tokenizer(tokenizer);
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
      return r.contiguous();
    };
    std::string lines;
    for (auto id : ids) {
      auto b = rounded(before[id]), a = rounded(after[id]);
      lines += json({{"token", tok.decode({text::TokenId(id)})}, {"id", id}, {"cluster", top[std::size_t(id)]},
                     {"before", std::vector<double>(b.data_ptr<double>(), b.data_ptr<double>() + b.numel())},
                     {"after", std::vector<double>(a.data_ptr<double>(), a.data_ptr<double>() + a.numel())}})
                   .dump(-1, ' ', false, json::error_handler_t::replace) +  // a byte token is not UTF-8 alone
               "\n";
    }
    write_file_atomic(o.out + "/hcma/embedding_sample.jsonl", lines);
  }

  std::string table = "# HCMA experiment\n\n" + description + ". " + std::to_string(s.seeds.size()) +
                      " seeds per variant (alignment seed and probe seed; abtt and whiten are deterministic, so only "
                      "the probes vary); cells are mean ± sd over seeds; changes are relative to the original model, "
                      "and a verdict other than \"no significant difference\" needs the two mean ± sd intervals not "
                      "to overlap.\n\n" +
                      report::experiment_markdown(report::read_experiment(o.out + "/hcma/experiment.json", "hcma"));
  write_file_atomic(o.out + "/hcma/table.md", table);
  std::vector<std::string> dirs = {o.out};
  if (o.model.empty()) dirs.push_back(o.out + "/base");
  auto files = report::write_report(dirs, o.out);
  std::printf("%s\nTable: %s/hcma/table.md\nReport: %s\n", table.c_str(), o.out.c_str(), files.html.c_str());
}

}  // namespace structlm::cli
