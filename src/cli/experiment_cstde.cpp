#include "cli/experiment_cstde.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cli/corpus_eval.h"
#include "cli/workspace.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "eval/dependency_probe.h"
#include "eval/generate.h"
#include "eval/generation_metrics.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/experiment_logs.h"
#include "report/experiment_markdown.h"
#include "report/report.h"
#include "report/stats.h"
#include "text/link_cache.h"
#include "train/config.h"

namespace structlm::cli {

namespace {

// Distances to the link partner, bucketed so that long distances still hold enough tokens: the
// bucket is named by its first distance.
const std::vector<int> kDistanceBuckets = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33};

int distance_bucket_start(int k) {
  int start = kDistanceBuckets.front();
  for (int b : kDistanceBuckets)
    if (k >= b) start = b;
  return start;
}

struct Setup {
  json file;        // the whole experiment config
  json experiment;  // its "experiment" section
  std::string path;
  std::vector<std::string> train_corpora, eval_corpora, prompts;
  std::vector<std::pair<std::string, json>> variants;  // name -> cstde switches, config order
  std::vector<std::int64_t> seeds;
};

Setup read_setup(const CstdeExperimentOptions& o) {
  Setup s;
  s.path = o.config;
  auto cfg = load_experiment_config(o.config, o.seeds);
  s.file = cfg.file;
  s.experiment = cfg.experiment;
  s.seeds = cfg.seeds;
  auto strings = [&](const char* key) {
    check(s.experiment.contains(key) && s.experiment[key].is_array() && !s.experiment[key].empty(), o.config,
          std::string("experiment field '") + key + "' must be a non-empty list");
    try {
      return s.experiment[key].get<std::vector<std::string>>();
    } catch (const json::exception&) {
      fail(o.config, std::string("experiment field '") + key + "' must be a list of strings");
    }
  };
  s.train_corpora = strings("train_corpora");
  s.eval_corpora = strings("eval_corpora");
  s.prompts = strings("prompts");
  check(s.experiment.contains("variants") && s.experiment["variants"].is_object() &&
            s.experiment["variants"].contains("baseline"),
        o.config, "experiment field 'variants' must be an object with a 'baseline' entry");
  for (auto it = s.experiment["variants"].begin(); it != s.experiment["variants"].end(); ++it) {
    if (!o.only_variants.empty() && it.key() != "baseline" &&
        std::find(o.only_variants.begin(), o.only_variants.end(), it.key()) == o.only_variants.end())
      continue;
    check(it.value().is_object(), o.config, "experiment variant '" + it.key() + "' must be an object of cstde switches");
    s.variants.emplace_back(it.key(), it.value());
  }
  // The baseline first: it is the reference for every comparison, and keeps the first colour.
  std::stable_partition(s.variants.begin(), s.variants.end(), [](const auto& v) { return v.first == "baseline"; });
  return s;
}

// The run config of one (variant, seed): the file's model with the variant's cstde switches.
train::RunConfig run_config(const Setup& s, const std::string& variant, const json& switches, std::int64_t seed,
                            const json& data, std::size_t vocab) {
  json run = {{"model", s.file.at("model")}, {"train", s.file.at("train")}, {"data", data}};
  run["model"]["vocab_size"] = vocab;
  if (!run["model"].contains("cstde")) run["model"]["cstde"] = json::object();
  for (auto it = switches.begin(); it != switches.end(); ++it) run["model"]["cstde"][it.key()] = it.value();
  run["train"]["seed"] = std::uint64_t(seed);
  return train::RunConfig::from_json(run, s.path + " (variant '" + variant + "')");
}

// ms per optimizer step: the median of the training log's throughput lines (the first is
// dropped: it includes start-up), so an interval that also ran a validation pass does not count.
double median_step_ms(const std::string& metrics_path, std::int64_t tokens_per_step) {
  std::vector<double> tps;
  for (const auto& line : read_lines(metrics_path)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("tokens_per_s") && j["tokens_per_s"].is_number())
      tps.push_back(j["tokens_per_s"].get<double>());
  }
  if (tps.size() > 1) tps.erase(tps.begin());
  if (tps.empty()) fail(metrics_path, "no tokens_per_s lines: cannot time the steps");
  return 1000.0 * double(tokens_per_step) / report::median(tps);
}

struct Shared {  // what every run is measured on
  std::string tok_dir;
  text::Tokenizer tok;
  std::vector<text::LinkedSentence> linked;
  std::vector<int> reference_lengths;
};

// One generation per (prompt, sample seed) under one fixed decoder. Sentence lengths are counted
// on prompt + continuation, and the last sentence is dropped when the continuation was cut by the
// token limit (its length would be the limit's, not the model's).
json measure_generation(model::GPT& net, const Shared& sh, const Setup& s) {
  json sj = s.experiment.value("sample", json::object());
  eval::SampleOptions sopt;
  sopt.max_new_tokens = sj.value("max_new_tokens", 80);
  sopt.temperature = sj.value("temperature", 1.0);
  sopt.top_k = sj.value("top_k", 40);
  sopt.top_p = sj.value("top_p", 1.0);
  std::vector<std::uint64_t> seeds = sj.value("seeds", std::vector<std::uint64_t>{1});
  std::vector<std::string> continuations;
  std::vector<int> lengths;
  for (const auto& p : s.prompts)
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
  return json{{"distinct1", m.distinct1}, {"distinct2", m.distinct2}, {"distinct3", m.distinct3},
              {"mtld", m.mtld},           {"seq_rep4", m.seq_rep4},   {"texts", m.texts},
              {"sentence_lengths", lengths},
              {"samples", continuations}};
}

// Everything measured on one trained run (its result.json).
json measure_run(const std::string& dir, const train::RunConfig& cfg, const std::string& variant, std::int64_t seed,
                 const Shared& sh, const Setup& s, const CstdeExperimentOptions& o, const ChildUsage& usage) {
  auto net = model::load_model(dir + "/checkpoints/latest.safetensors");
  CorpusEvalOptions eopt;
  eopt.corpora = s.eval_corpora;
  eopt.data_dir = o.data_dir;
  eopt.tokenizer = sh.tok_dir;
  eopt.max_tokens = s.experiment.value("eval_max_tokens", std::size_t(0));
  eopt.xz = false;
  json ev = evaluate_corpora(net, eopt);
  save_json(dir + "/eval.json", ev);

  auto probe = eval::probe_dependencies(net, sh.tok, sh.linked);
  json by_distance = json::array();
  std::map<int, eval::DistanceLoss> buckets;
  for (const auto& [k, dl] : probe.loss_by_distance) {
    auto& b = buckets[distance_bucket_start(k)];
    b.loss_sum += dl.loss_sum;
    b.tokens += dl.tokens;
  }
  for (const auto& [k, b] : buckets)
    by_distance.push_back({{"distance", k}, {"loss", b.loss_sum / double(b.tokens)}, {"tokens", b.tokens}});

  const std::int64_t tokens_per_step = cfg.train.batch_size * cfg.train.grad_accum * cfg.model.block_size;
  json r = {{"variant", variant},
            {"seed", seed},
            {"params", cfg.model.num_params()},
            {"step_ms", median_step_ms(dir + "/metrics.jsonl", tokens_per_step)},
            {"peak_rss_mib", usage.peak_rss_mib},
            {"train_wall_s", usage.wall_s},
            {"eval", ev["corpora"]},
            {"sentences_probed", probe.sentences},
            {"tokens_with_partner", probe.tokens_with_partner},
            {"uas_attention", probe.uas_attention},
            {"uas_dependency", probe.uas_dependency >= 0 ? json(probe.uas_dependency) : json(nullptr)},
            {"loss_by_distance", by_distance},
            {"generation", measure_generation(net, sh, s)}};
  return r;
}

// Table columns: key, label, lower is better, digits.
struct Column {
  std::string key, label;
  bool lower_is_better;
  int digits;
};

std::vector<Column> columns(const Setup& s) {
  std::vector<Column> c;
  for (const auto& corpus : s.eval_corpora) {
    const auto name = corpus_name(corpus);
    c.push_back({name + "_ppl", name + " perplexity", true, 2});
    c.push_back({name + "_bpb", name + " bits/byte", true, 4});
  }
  c.push_back({"step_ms", "ms/step", true, 1});
  c.push_back({"step_time_rel", "step time vs baseline", true, 3});
  c.push_back({"peak_rss_mib", "peak RSS (MiB)", true, 0});
  c.push_back({"rss_rel", "peak RSS vs baseline", true, 3});
  c.push_back({"params", "parameters", true, 0});
  c.push_back({"params_rel", "parameters vs baseline", true, 4});
  c.push_back({"uas_dependency", "UAS of D heads", false, 3});
  c.push_back({"uas_attention", "UAS of attention heads", false, 3});
  c.push_back({"near_loss", "loss, partner at 1-4", true, 4});
  c.push_back({"far_loss", "loss, partner at 9+", true, 4});
  c.push_back({"distinct1", "distinct-1", false, 4});
  c.push_back({"distinct2", "distinct-2", false, 4});
  c.push_back({"distinct3", "distinct-3", false, 4});
  c.push_back({"mtld", "MTLD", false, 1});
  c.push_back({"seq_rep4", "seq-rep-4", true, 4});
  c.push_back({"sentence_w1", "sentence-length W1 to reference", true, 3});
  return c;
}

double loss_over(const json& by_distance, int lo, int hi) {
  double sum = 0, n = 0;
  for (const auto& b : by_distance) {
    int k = b["distance"];
    if (k < lo || k > hi) continue;
    sum += b["loss"].get<double>() * b["tokens"].get<double>();
    n += b["tokens"].get<double>();
  }
  return n > 0 ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

// One row of experiment.json from a result.json; `base` is the same seed's baseline result.
json table_values(const json& r, const json& base, const std::vector<int>& reference_lengths) {
  json v = json::object();
  for (const auto& e : r["eval"]) {
    const std::string c = e["corpus"];
    v[c + "_ppl"] = e["perplexity"];
    v[c + "_bpb"] = e["bits_per_byte"];
  }
  v["step_ms"] = r["step_ms"];
  v["step_time_rel"] = r["step_ms"].get<double>() / base["step_ms"].get<double>();
  v["peak_rss_mib"] = r["peak_rss_mib"];
  v["rss_rel"] = r["peak_rss_mib"].get<double>() / base["peak_rss_mib"].get<double>();
  v["params"] = r["params"];
  v["params_rel"] = r["params"].get<double>() / base["params"].get<double>();
  v["uas_dependency"] = r["uas_dependency"];
  v["uas_attention"] = r["uas_attention"];
  v["near_loss"] = loss_over(r["loss_by_distance"], 1, 4);
  v["far_loss"] = loss_over(r["loss_by_distance"], 9, 1 << 30);
  const auto& g = r["generation"];
  for (const char* k : {"distinct1", "distinct2", "distinct3", "mtld", "seq_rep4"}) v[k] = g[k];
  std::vector<double> gen = g["sentence_lengths"].get<std::vector<double>>();
  std::vector<double> ref(reference_lengths.begin(), reference_lengths.end());
  v["sentence_w1"] = gen.empty() ? json(nullptr) : json(report::wasserstein1(gen, ref));
  // NaN is not JSON: a metric that is undefined for this run is "not measured".
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.value().is_number_float() && !std::isfinite(it.value().get<double>())) it.value() = nullptr;
  return v;
}

}  // namespace

void run_cstde_experiment(const CstdeExperimentOptions& o) {
  Setup s = read_setup(o);
  make_dirs(o.out + "/runs");
  make_dirs(o.out + "/cstde");
  const std::size_t vocab = s.experiment.value("vocab_size", std::size_t(4096));

  // Data, tokenizer, reference sentences: shared by every run.
  for (const auto& c : s.eval_corpora) prepare_corpus(o.data_dir, c);
  Shared sh;
  sh.tok_dir = o.out + "/tokenizer";
  ensure_trained_tokenizer(o.data_dir, s.train_corpora, vocab, sh.tok_dir);
  sh.tok = load_tokenizer(sh.tok_dir);
  json data = training_data_section(o.data_dir, s.train_corpora, sh.tok_dir);
  for (const auto& c : s.eval_corpora) ensure_shards(o.data_dir, c, sh.tok_dir);

  // Held-out sentences of the first training corpus's test split, parsed by link-grammar once
  // and cached next to the corpus; its sentence lengths are the generation reference.
  const auto ref_corpus = prepare_corpus(o.data_dir, s.train_corpora.front());
  std::vector<std::string> test_texts;
  for (const auto& d : ref_corpus.test) {
    test_texts.push_back(d.text);
    auto l = eval::sentence_lengths(d.text);
    sh.reference_lengths.insert(sh.reference_lengths.end(), l.begin(), l.end());
  }
  text::SentenceSelection sel;
  sel.max_sentences = s.experiment.value("link_sentences", std::size_t(400));
  sh.linked = text::parse_sentences(text::select_sentences(test_texts, sel), corpus_dir(o.data_dir, s.train_corpora.front()));

  // Equal parameter count within ±2 % (docs/METHODS.md §1c), checked before any training.
  const auto base_cfg = run_config(s, "baseline", s.variants.front().second, s.seeds.front(), data, sh.tok.vocab_size());
  for (const auto& [name, sw] : s.variants) {
    const auto c = run_config(s, name, sw, s.seeds.front(), data, sh.tok.vocab_size());
    const double rel = double(c.model.num_params()) / double(base_cfg.model.num_params()) - 1;
    std::fprintf(stderr, "experiment: %-10s %lld parameters (%+.2f%% vs baseline)\n", name.c_str(),
                 (long long)c.model.num_params(), 100 * rel);
    check(std::abs(rel) <= 0.02, o.config,
          "variant '" + name + "' has " + std::to_string(100 * rel) +
              "% more parameters than the baseline; the comparison needs ±2% (lower cstde.rank or widen the model)");
  }

  // Seeds outermost: each seed trains every variant back to back, so slow phases of a shared
  // machine fall on all variants alike rather than on one.
  const std::string exe = self_exe();
  std::map<std::pair<std::string, std::int64_t>, json> results;
  const std::size_t total = s.variants.size() * s.seeds.size();
  std::size_t done = 0;
  for (auto seed : s.seeds)
    for (const auto& [name, sw] : s.variants) {
      ++done;
      const std::string dir = o.out + "/runs/" + name + "-seed" + std::to_string(seed);
      const std::string result_path = dir + "/result.json";
      if (file_exists(result_path)) {
        results[{name, seed}] = load_json(result_path);
        std::fprintf(stderr, "experiment: [%zu/%zu] %s seed %lld: done earlier\n", done, total, name.c_str(), (long long)seed);
        continue;
      }
      std::fprintf(stderr, "experiment: [%zu/%zu] training %s seed %lld\n", done, total, name.c_str(), (long long)seed);
      auto cfg = run_config(s, name, sw, seed, data, sh.tok.vocab_size());
      make_dirs(dir);
      save_json(dir + "/requested_config.json", cfg.to_json());
      std::vector<std::string> argv = {exe, "train", "--config", dir + "/requested_config.json", "--run-dir", dir};
      if (file_exists(dir + "/checkpoints/latest.safetensors")) argv.push_back("--resume");
      auto usage = run_attached(argv);
      if (usage.exit_code != 0)
        fail(dir, "training " + name + " seed " + std::to_string(seed) + " failed (exit " +
                      std::to_string(usage.exit_code) + "); rerun the experiment to resume it");
      auto r = measure_run(dir, cfg, name, seed, sh, s, o, usage);
      save_json(result_path, r);
      results[{name, seed}] = r;
    }

  // experiment.json, loss_by_distance.jsonl, sentence_lengths.jsonl (docs/REPORT.md).
  const auto cols = columns(s);
  json metrics = json::array();
  for (const auto& c : cols)
    metrics.push_back({{"key", c.key}, {"label", c.label}, {"lower_is_better", c.lower_is_better}, {"digits", c.digits}});
  json rows = json::array();
  std::string by_distance, lengths;
  lengths += json({{"kind", "reference"}, {"corpus", corpus_name(s.train_corpora.front())}, {"lengths", sh.reference_lengths}}).dump() + "\n";
  for (const auto& [name, sw] : s.variants)
    for (auto seed : s.seeds) {
      const json& r = results.at({name, seed});
      rows.push_back({{"variant", name}, {"seed", seed}, {"values", table_values(r, results.at({"baseline", seed}), sh.reference_lengths)}});
      for (const auto& b : r["loss_by_distance"])
        by_distance += json({{"variant", name}, {"seed", seed}, {"distance", b["distance"]}, {"loss", b["loss"]},
                             {"tokens", b["tokens"]}}).dump() + "\n";
      // A seed whose generations hold no complete sentence has no length sample (the table's
      // W1 cell is then "not measured" for it).
      if (!r["generation"]["sentence_lengths"].empty())
        lengths += json({{"kind", "generated"}, {"variant", name}, {"seed", seed},
                         {"lengths", r["generation"]["sentence_lengths"]}}).dump() + "\n";
    }
  json experiment = {{"experiment", "cstde"},
                     {"description", s.experiment.value("description", std::string("CSTDE vs plain GPT"))},
                     {"baseline", "baseline"},
                     {"metrics", metrics},
                     {"rows", rows}};
  save_json(o.out + "/cstde/experiment.json", experiment);
  write_file_atomic(o.out + "/cstde/loss_by_distance.jsonl", by_distance);
  write_file_atomic(o.out + "/cstde/sentence_lengths.jsonl", lengths);
  const std::string table = "# CSTDE experiment\n\n" + experiment["description"].get<std::string>() + ". " +
                            std::to_string(s.seeds.size()) + " seeds per variant; cells are mean ± sd over seeds; " +
                            "changes are relative to the baseline's mean, and a verdict other than \"no significant " +
                            "difference\" needs the two mean ± sd intervals not to overlap.\n\n" +
                            report::experiment_markdown(report::read_experiment(o.out + "/cstde/experiment.json", "cstde"));
  write_file_atomic(o.out + "/cstde/table.md", table);

  std::vector<std::string> dirs = {o.out};
  for (auto seed : s.seeds)
    for (const auto& [name, sw] : s.variants) dirs.push_back(o.out + "/runs/" + name + "-seed" + std::to_string(seed));
  auto files = report::write_report(dirs, o.out);
  std::printf("%s\nTable: %s/cstde/table.md\nReport: %s\n", table.c_str(), o.out.c_str(), files.html.c_str());
}

}  // namespace structlm::cli
