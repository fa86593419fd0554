#include "experiment/experiment_config.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "experiment/cstde_metrics.h"
#include "experiment/hcma_metrics.h"
#include "model/config.h"
#include "train/config.h"

namespace structlm::experiment {

namespace {

constexpr auto non_empty = [](const auto& v) { return !v.empty(); };

// Seeds are non-negative integers; nlohmann would read -1 or 1.5 into a uint64 without a word.
void check_seeds(const json& section, const std::string& where) {
  auto it = section.find("seeds");
  if (it == section.end() || !it->is_array()) return;  // absent or not a list: the table says so
  for (const auto& v : *it) check(v.is_number_unsigned(), where, "field 'seeds' must hold non-negative integers, got " + v.dump());
}

void keep_first_seeds(std::vector<std::int64_t>& seeds, int first_n, const std::string& path) {
  if (first_n <= 0) return;
  check(std::size_t(first_n) <= seeds.size(), path,
        "--seeds " + std::to_string(first_n) + " but the config lists " + std::to_string(seeds.size()));
  seeds.resize(std::size_t(first_n));
}

constexpr auto non_empty_names = [](const std::vector<std::string>& v) {
  return std::none_of(v.begin(), v.end(), [](const std::string& k) { return k.empty(); });
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// experiment.primary_metrics: no key twice, each a key of `known` (the experiment's metric
// catalogue). `corpus_keys_later`: a "*_ppl" or "*_bpb" key outside `known` may name an eval corpus
// given by path, whose name the workspace gives: the experiment checks it when it starts.
void check_primary_metrics(const std::vector<std::string>& keys, const std::vector<report::Metric>& known,
                           const std::string& path, bool corpus_keys_later) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string where = path + " (experiment.primary_metrics[" + std::to_string(i) + "])";
    for (std::size_t k = 0; k < i; ++k)
      check(keys[k] != keys[i], where, "'" + keys[i] + "' is listed twice (primary_metrics[" + std::to_string(k) + "])");
    if (corpus_keys_later && (ends_with(keys[i], "_ppl") || ends_with(keys[i], "_bpb"))) continue;
    if (std::any_of(known.begin(), known.end(), [&](const report::Metric& m) { return m.key == keys[i]; })) continue;
    std::string names;
    for (const auto& m : known) names += (names.empty() ? "" : ", ") + m.key;
    fail(where, "'" + keys[i] + "' is not a metric key of this experiment (known: " + names + ")");
  }
}

// The file, its top-level keys checked, and its `section` read through `Section::fields()`.
template <typename Section>
ExperimentFile<Section> load(const std::string& path, const char* section) {
  ExperimentFile<Section> f;
  f.path = path;
  f.file = load_json(path);
  check(f.file.is_object(), path, "an experiment config must be a JSON object");
  check_known_keys(f.file, {"model", "train", section}, path);
  check(f.file.contains(section) && f.file[section].is_object(), path, std::string("missing the '") + section + "' section");
  const std::string where = path + " (" + section + ")";
  check_seeds(f.file[section], where);
  if (f.file[section].contains("sample") && f.file[section]["sample"].is_object())
    check_seeds(f.file[section]["sample"], path + " (" + section + ".sample)");
  Section::fields().read(f.file[section], f.section, where);
  return f;
}

}  // namespace

const FieldTable<DecoderSection>& DecoderSection::fields() {
  using D = DecoderSection;
  static const auto t =
      FieldTable<D>()
          .add("max_new_tokens", +[](D& d) -> int& { return d.max_new_tokens; }, "tokens per generation", "> 0", positive)
          .add("temperature", +[](D& d) -> double& { return d.temperature; }, "0: greedy", ">= 0", non_negative)
          .add("top_k", +[](D& d) -> int& { return d.top_k; }, "keep the k most likely tokens (0: off)", ">= 0", non_negative)
          .add("top_p", +[](D& d) -> double& { return d.top_p; }, "nucleus mass (1: off)", "in (0, 1]",
               [](double p) { return p > 0 && p <= 1; });
  return t;
}

void DecoderSection::apply(eval::SampleOptions& o) const {
  o.max_new_tokens = max_new_tokens;
  o.temperature = temperature;
  o.top_k = top_k;
  o.top_p = top_p;
}

const FieldTable<ExperimentSample>& ExperimentSample::fields() {
  using S = ExperimentSample;
  static const auto t = FieldTable<S>()
                            .include(DecoderSection::fields(), +[](S& s) -> DecoderSection& { return s.decoder; })
                            .add("seeds", +[](S& s) -> std::vector<std::uint64_t>& { return s.seeds; },
                                 "one generation per prompt and seed", "a non-empty list", non_empty);
  return t;
}

const FieldTable<CstdeSection>& CstdeSection::fields() {
  using C = CstdeSection;
  using Strings = std::vector<std::string>;
  static const auto t =
      FieldTable<C>("experiment field")
          .add("description", +[](C& c) -> std::string& { return c.description; }, "the table's title")
          .add("train_corpora", +[](C& c) -> Strings& { return c.train_corpora; }, "corpora every run trains on",
               "a non-empty list", non_empty)
          .add("eval_corpora", +[](C& c) -> Strings& { return c.eval_corpora; }, "corpora perplexity is measured on",
               "a non-empty list", non_empty)
          .add("vocab_size", +[](C& c) -> std::size_t& { return c.vocab_size; }, "BPE vocabulary trained on the training corpora",
               "> 256", [](std::size_t v) { return v > 256; })
          .add("seeds", +[](C& c) -> std::vector<std::int64_t>& { return c.seeds; }, "training seeds (runs are paired by seed)",
               "a non-empty list", non_empty)
          .add("variants", +[](C& c) -> json& { return c.variants; }, "variant name -> its model.cstde switches",
               "an object with a 'baseline' entry", [](const json& v) { return v.is_object() && v.contains("baseline"); })
          .add("eval_max_tokens", +[](C& c) -> std::size_t& { return c.eval_max_tokens; }, "tokens per eval corpus (0: all)")
          .add("link_sentences", +[](C& c) -> std::size_t& { return c.link_sentences; },
               "linked sentences for the dependency probe", "> 0", positive)
          .add("prompts", +[](C& c) -> Strings& { return c.prompts; }, "generation prompts", "a non-empty list", non_empty)
          .add("lr_sweep", +[](C& c) -> std::vector<double>& { return c.lr_sweep; },
               "learning rates each variant chooses from on validation (empty: train.lr)",
               "empty, or two or more distinct numbers > 0",
               [](const std::vector<double>& v) {
                 if (v.empty()) return true;
                 if (v.size() < 2) return false;
                 for (std::size_t i = 0; i < v.size(); ++i) {
                   if (!(std::isfinite(v[i]) && v[i] > 0)) return false;
                   for (std::size_t k = 0; k < i; ++k)
                     if (v[k] == v[i]) return false;
                 }
                 return true;
               })
          .add("lr_sweep_seeds", +[](C& c) -> std::size_t& { return c.lr_sweep_seeds; },
               "the first seeds whose final validation loss chooses each variant's learning rate", "> 0", positive)
          .add("contrasts", +[](C& c) -> std::vector<Strings>& { return c.contrasts; },
               "[variant, reference] pairs of arms other than the baseline, compared paired by seed (variant - "
               "reference; Holm over these and the baseline comparisons together, within each family when "
               "experiment.primary_metrics names some)",
               "a list of [variant, reference] pairs of variant names",
               [](const std::vector<Strings>& v) {
                 return std::all_of(v.begin(), v.end(), [](const Strings& p) { return p.size() == 2; });
               })
          .add("primary_metrics", +[](C& c) -> Strings& { return c.primary_metrics; },
               "the primary endpoints, metric keys of cstde/experiment.json (\"val_loss\"): Holm within them "
               "(x every comparison) and, separately, within every other metric (empty: one family)",
               "a list of non-empty metric keys", non_empty_names)
          .section("sample", +[](C& c) -> ExperimentSample& { return c.sample; }, ExperimentSample::fields(),
                   "the decoder of the generation measurements");
  return t;
}

const FieldTable<HcmaSection>& HcmaSection::fields() {
  using H = HcmaSection;
  static const auto t =
      FieldTable<H>("experiment field")
          .add("description", +[](H& h) -> std::string& { return h.description; }, "the table's title")
          .add("train_corpora", +[](H& h) -> std::vector<std::string>& { return h.train_corpora; },
               "corpora the base model is trained on", "a non-empty list", non_empty)
          .add("calibration", +[](H& h) -> std::string& { return h.calibration; },
               "corpus whose train split calibrates (default: the first training corpus)")
          .add("vocab_size", +[](H& h) -> std::size_t& { return h.vocab_size; }, "BPE vocabulary of the base model",
               "> 256", [](std::size_t v) { return v > 256; })
          .add("seeds", +[](H& h) -> std::vector<std::int64_t>& { return h.seeds; }, "alignment seeds", "a non-empty list",
               non_empty)
          .add("align", +[](H& h) -> json& { return h.align; }, "align options every method shares (structlm align --help-config)",
               "an object", [](const json& a) { return a.is_object(); })
          .add("methods", +[](H& h) -> json& { return h.methods; }, "variant name -> its align options over 'align' (a shrink variant may name, as 'match', the variant whose "
               "clean-loss cost on validation its a is matched to; an LM-trained one may give 'lr_grid' and 'steps_grid' "
               "to choose its lr and steps on validation)",
               "a non-empty object", [](const json& m) { return m.is_object() && !m.empty(); })
          .add("base_fractions", +[](H& h) -> std::vector<double>& { return h.base_fractions; },
               "fractions of train.max_steps at which the base model is kept, aligned and measured (OUT/base-<f>/)",
               "empty, or increasing numbers in (0, 1]",
               [](const std::vector<double>& v) {
                 for (std::size_t i = 0; i < v.size(); ++i)
                   if (!(std::isfinite(v[i]) && v[i] > 0 && v[i] <= 1) || (i > 0 && v[i] <= v[i - 1])) return false;
                 return true;
               })
          .add("primary_metrics", +[](H& h) -> std::vector<std::string>& { return h.primary_metrics; },
               "the primary endpoints, metric keys of hcma/experiment.json (\"rare_recall10\"): Holm within them "
               "(x every comparison) and, separately, within every other metric (empty: one family)",
               "a list of non-empty metric keys", non_empty_names)
          .section("suite", +[](H& h) -> HcmaSuiteOptions& { return h.suite; }, HcmaSuiteOptions::fields(),
                   "the measurements (eval --suite hcma)");
  return t;
}

const FieldTable<DemoSection::Sample>& DemoSection::Sample::fields() {
  using S = DemoSection::Sample;
  static const auto t = FieldTable<S>()
                            .include(DecoderSection::fields(), +[](S& s) -> DecoderSection& { return s.decoder; })
                            .add("seed", +[](S& s) -> std::uint64_t& { return s.seed; }, "the sampler's seed");
  return t;
}

const FieldTable<DemoSection>& DemoSection::fields() {
  using D = DemoSection;
  using Strings = std::vector<std::string>;
  static const auto t =
      FieldTable<D>("demo field")
          .add("train_corpora", +[](D& d) -> Strings& { return d.train_corpora; }, "corpora the demo trains on",
               "a non-empty list", non_empty)
          .add("eval_corpora", +[](D& d) -> Strings& { return d.eval_corpora; }, "corpora perplexity is measured on",
               "a non-empty list", non_empty)
          .add("vocab_size", +[](D& d) -> std::size_t& { return d.vocab_size; }, "BPE vocabulary", "> 256",
               [](std::size_t v) { return v > 256; })
          .add("train_minutes", +[](D& d) -> double& { return d.train_minutes; }, "training budget (--minutes overrides)",
               "> 0", positive)
          .add("prompts", +[](D& d) -> Strings& { return d.prompts; }, "generation prompts", "a non-empty list", non_empty)
          .section("sample", +[](D& d) -> Sample& { return d.sample; }, Sample::fields(), "the decoder of the samples");
  return t;
}

ExperimentFile<CstdeSection> load_cstde_config(const std::string& path, int first_seeds) {
  auto f = load<CstdeSection>(path, "experiment");
  if (!f.section.lr_sweep.empty())
    check(f.section.lr_sweep_seeds <= f.section.seeds.size(), path + " (experiment.lr_sweep_seeds)",
          "chooses on " + std::to_string(f.section.lr_sweep_seeds) + " seeds but the experiment has " +
              std::to_string(f.section.seeds.size()));
  keep_first_seeds(f.section.seeds, first_seeds, path);
  // --seeds N below lr_sweep_seeds: the choice is made on the seeds kept.
  f.section.lr_sweep_seeds = std::min(f.section.lr_sweep_seeds, f.section.seeds.size());
  // Each variant's switches over the file's cstde section, checked now rather than when its first
  // run starts, hours in.
  const json base = f.file.contains("model") && f.file["model"].is_object() ? f.file["model"].value("cstde", json::object())
                                                                            : json::object();
  check(base.is_object(), path + " (model)", "field 'cstde' must be an object");
  for (auto it = f.section.variants.begin(); it != f.section.variants.end(); ++it) {
    const std::string where = path + " (experiment.variants." + it.key() + ")";
    check(it.value().is_object(), where, "a variant must be an object of model.cstde switches");
    json merged = base;
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) merged[kv.key()] = kv.value();
    model::CstdeConfig::from_json(merged, where);
    f.section.variant_cstde.emplace_back(it.key(), std::move(merged));
  }
  for (std::size_t i = 0; i < f.section.contrasts.size(); ++i) {
    const auto& c = f.section.contrasts[i];  // two names (the field's check)
    const std::string where = path + " (experiment.contrasts[" + std::to_string(i) + "])";
    for (const auto& name : c)
      check(f.section.variants.contains(name), where, "names no variant of experiment.variants: '" + name + "'");
    check(c[0] != c[1], where, "compares '" + c[0] + "' with itself (a contrast needs two distinct variants)");
    check(c[0] != "baseline" && c[1] != "baseline", where,
          "names the baseline: every variant is compared with it already (a contrast is between two other arms)");
    for (std::size_t k = 0; k < i; ++k) {
      const auto& o = f.section.contrasts[k];
      check(!(o[0] == c[0] && o[1] == c[1]) && !(o[0] == c[1] && o[1] == c[0]), where,
            "[\"" + c[0] + "\", \"" + c[1] + "\"] repeats contrasts[" + std::to_string(k) +
                "] (a pair, or the same pair reversed, is one comparison)");
    }
  }
  check_primary_metrics(f.section.primary_metrics, cstde_metrics(f.section.eval_corpora), path, /*corpus_keys_later=*/true);
  return f;
}

ExperimentFile<HcmaSection> load_hcma_config(const std::string& path, int first_seeds) {
  auto f = load<HcmaSection>(path, "experiment");
  keep_first_seeds(f.section.seeds, first_seeds, path);
  if (f.section.calibration.empty()) f.section.calibration = f.section.train_corpora.front();
  check_primary_metrics(f.section.primary_metrics, hcma_metrics(), path, /*corpus_keys_later=*/false);
  if (!f.section.base_fractions.empty()) {
    const json train = f.file.contains("train") && f.file["train"].is_object() ? f.file["train"] : json::object();
    const std::int64_t max_steps = train::TrainConfig::from_json(train, path).max_steps;
    for (double fraction : f.section.base_fractions) {
      const std::int64_t step = std::max<std::int64_t>(1, std::llround(fraction * double(max_steps)));
      check(f.section.base_steps.empty() || step > f.section.base_steps.back(), path + " (experiment.base_fractions)",
            "two fractions fall on the same step (" + std::to_string(step) + " of train.max_steps " +
                std::to_string(max_steps) + ")");
      f.section.base_steps.push_back(step);
    }
  }
  for (auto it = f.section.methods.begin(); it != f.section.methods.end(); ++it) {
    const std::string where = path + " (experiment.methods." + it.key() + ")";
    check(it.value().is_object(), where, "a method must map to an object of align options");
    json opts = f.section.align;
    opts["method"] = it.key();
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv)
      if (kv.key() != "match" && kv.key() != "lr_grid" && kv.key() != "steps_grid") opts[kv.key()] = kv.value();
    auto options = hcma::AlignOptions::from_json(opts, where);
    if (it.value().contains("lr_grid") || it.value().contains("steps_grid")) {
      check(options.uses_lm() && !options.deterministic(), where,
            "'lr_grid' and 'steps_grid' choose the lr and steps of a method trained by the LM loss (emb-finetune, "
            "emb-noise, cosreg), not of " + options.method);
      check(!it.value().contains("match"), where, "a matched shrink has no lr or steps to choose");
      HcmaSection::Tuning g{{options.loop.lr}, {options.loop.steps}};
      if (it.value().contains("lr_grid")) {
        const json& v = it.value()["lr_grid"];
        check(v.is_array() && !v.empty(), where, "'lr_grid' must be a non-empty list of numbers > 0");
        g.lr.clear();
        for (const auto& x : v) {
          check(x.is_number() && std::isfinite(x.get<double>()) && x.get<double>() > 0, where,
                "'lr_grid' must be a non-empty list of numbers > 0");
          check(std::find(g.lr.begin(), g.lr.end(), x.get<double>()) == g.lr.end(), where, "'lr_grid' repeats " + x.dump());
          g.lr.push_back(x.get<double>());
        }
      }
      if (it.value().contains("steps_grid")) {
        const json& v = it.value()["steps_grid"];
        check(v.is_array() && !v.empty(), where, "'steps_grid' must be a non-empty list of integers > 0");
        g.steps.clear();
        for (const auto& x : v) {
          check(x.is_number_integer() && x.get<std::int64_t>() > 0 && x.get<std::int64_t>() < (1 << 30), where,
                "'steps_grid' must be a non-empty list of integers > 0");
          check(std::find(g.steps.begin(), g.steps.end(), x.get<int>()) == g.steps.end(), where,
                "'steps_grid' repeats " + x.dump());
          g.steps.push_back(x.get<int>());
        }
      }
      f.section.tuning[it.key()] = g;
    }
    check(options.shrink.match_checkpoint.empty() && options.shrink.match_shard.empty(), where,
          "'match_checkpoint' and 'match_shard' are set by the experiment; name the variant to match with 'match'");
    if (it.value().contains("match")) {
      check(it.value()["match"].is_string(), where, "'match' must name another method of experiment.methods");
      check(options.method == "shrink", where, "'match' is for a shrink variant (its a is chosen), not " + options.method);
      f.section.matches[it.key()] = it.value()["match"].get<std::string>();
    }
    f.section.variants.emplace_back(it.key(), std::move(options));
  }
  for (const auto& [variant, matched] : f.section.matches) {
    const std::string where = path + " (experiment.methods." + variant + ".match)";
    check(f.section.methods.contains(matched), where, "names no method of experiment.methods: '" + matched + "'");
    check(matched != variant && !f.section.matches.count(matched), where,
          "'" + matched + "' must be a method whose a is not itself matched");
  }
  return f;
}

ExperimentFile<DemoSection> load_demo_config(const std::string& path) { return load<DemoSection>(path, "demo"); }

std::string experiment_config_help(const std::string& kind) {
  if (kind == "cstde") return "experiment section (configs/cstde.json):\n" + CstdeSection::fields().help("experiment.");
  if (kind == "hcma") return "experiment section (configs/hcma.json):\n" + HcmaSection::fields().help("experiment.");
  if (kind == "demo") return "demo section (configs/demo.json):\n" + DemoSection::fields().help("demo.");
  fail("experiment", "no experiment kind '" + kind + "' (cstde, hcma or demo)");
}

}  // namespace structlm::experiment
