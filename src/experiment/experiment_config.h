// Experiment configs (`structlm experiment cstde|hcma`, `structlm demo`): a file with the run's
// "model" and "train" sections (read by train::RunConfig) and one section of the experiment's own,
// typed here: one struct per experiment kind, read through a field table (core/fields.h) as the run
// config is, so an unknown key, a wrong type or a value out of range is refused naming the file and
// the key path ("cstde.json (experiment.sample): field 'top_k' ..."). `--help-config` prints the
// tables.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/fields.h"
#include "core/json.h"
#include "eval/generate.h"
#include "hcma/align_options.h"
#include "experiment/hcma_suite.h"

namespace structlm::experiment {

// The fixed decoder every generation of an experiment or demo uses.
struct DecoderSection {
  int max_new_tokens = 80;
  double temperature = 1.0;
  int top_k = 40;
  double top_p = 1.0;
  static const FieldTable<DecoderSection>& fields();
  void apply(eval::SampleOptions& o) const;  // sets these four, leaves the rest
};

// experiment.sample: the decoder, and one generation per prompt and seed.
struct ExperimentSample {
  DecoderSection decoder;
  std::vector<std::uint64_t> seeds{1};
  static const FieldTable<ExperimentSample>& fields();
};

// The `experiment` section of configs/cstde*.json.
struct CstdeSection {
  std::string description = "CSTDE vs plain GPT";
  std::vector<std::string> train_corpora, eval_corpora, prompts;
  std::size_t vocab_size = 4096;  // the BPE trained on the training corpora
  std::vector<std::int64_t> seeds;  // non-negative
  // variant name -> its model.cstde switches, over the file's model section; a "baseline" entry
  // is required. Each variant's switches are checked by the model config when the section is read.
  json variants;
  std::size_t eval_max_tokens = 0;  // per corpus (0: the whole test split)
  std::size_t link_sentences = 400;  // linked sentences for the dependency probe
  // E1 (issue 14): two or more learning rates: each variant trains at each of them on its first
  // lr_sweep_seeds seeds, keeps the one with the lowest final validation loss (mean over those
  // seeds), and every seed of the table trains at it (docs/CSTDE.md). Empty: train.lr for all.
  std::vector<double> lr_sweep;
  std::size_t lr_sweep_seeds = 1;
  // Issue 14, second round: paired contrasts between arms besides the comparisons with the baseline,
  // [[variant, reference], ...] ([["attention", "recency"]]: attention − recency, paired by seed),
  // each naming two distinct variants of `variants` other than the baseline (compared with every
  // variant already), no pair twice (nor reversed). Carried into experiment.json;
  // the table tests them with the baseline comparisons in one Holm family (one per family of
  // primary_metrics when it names some). Optional (default none).
  std::vector<std::vector<std::string>> contrasts;
  // Issue 14, third round: the primary endpoints, declared up front (metric keys of
  // cstde/experiment.json's catalogue, experiment/cstde_metrics.h: ["val_loss"]). Carried into
  // experiment.json; the table then runs Holm's correction within the primary family (these
  // metrics x every comparison: variants vs baseline and contrasts) and, separately, within the
  // secondary family (every other metric). Empty (the default): one family, as before. Checked when
  // read (no key twice; a key the catalogue cannot have is refused listing the known ones), the
  // perplexity and bits/byte keys of an eval corpus given by path when the experiment starts.
  std::vector<std::string> primary_metrics;
  ExperimentSample sample;
  // `variants` resolved when read: each variant's whole model.cstde section (the file's, with the
  // variant's switches over it), checked by the model config; config order.
  std::vector<std::pair<std::string, json>> variant_cstde;
  static const FieldTable<CstdeSection>& fields();
};

// The `experiment` section of configs/hcma*.json.
struct HcmaSection {
  std::string description = "HCMA vs baselines on one frozen model";
  std::vector<std::string> train_corpora;
  std::string calibration;  // corpus whose train split calibrates (empty: the first training corpus)
  std::size_t vocab_size = 4096;
  std::vector<std::int64_t> seeds;  // non-negative
  json align = json::object();  // align options shared by every method (hcma::AlignOptions keys)
  json methods;                 // variant name -> its align options over `align`
  HcmaSuiteOptions suite;
  // Issue 15 item 1: fractions of the base model's training budget (train.max_steps) at which its
  // checkpoint is kept (train.keep_steps) and aligned and measured, each in its own folder
  // OUT/base-<fraction>/; increasing, in (0, 1]. Empty: the finished model only, in OUT/ (as before).
  std::vector<double> base_fractions;
  // base_fractions resolved when read: the step of each, max(1, round(fraction x max_steps)).
  std::vector<std::int64_t> base_steps;
  // Issue 15 item 2: shrink variants whose a is matched to another variant's clean-loss cost
  // ("shrink-matched": {"method": "shrink", "match": "hcma-fixed"}): variant -> the variant it
  // matches. Aligned a stage after the others, per seed, on the suite corpus's validation split.
  std::map<std::string, std::string> matches;
  // Issue 15 item 3: LM-trained variants whose lr and steps are chosen on validation from a declared
  // grid ("emb-finetune": {"lr_grid": [0.005, 0.02, 0.08], "steps_grid": [100, 300]}; a missing
  // grid is the variant's own value): every (lr, steps) is aligned with the first seed, and the
  // one with the lowest clean loss on the suite corpus's validation split is used for every seed.
  struct Tuning {
    std::vector<double> lr;
    std::vector<int> steps;
  };
  std::map<std::string, Tuning> tuning;
  // The primary endpoints (metric keys of hcma/experiment.json, experiment/hcma_metrics.h), as
  // CstdeSection::primary_metrics: Holm within the primary and within the secondary family of the
  // experiment table. Empty: one family.
  std::vector<std::string> primary_metrics;
  // `methods` resolved when read: each variant's `align` plus its own options, its method the
  // variant's name unless it names one ("hcma-lm": {"method": "hcma", "lambda_lm": 1}); config order.
  std::vector<std::pair<std::string, hcma::AlignOptions>> variants;
  static const FieldTable<HcmaSection>& fields();
};

// The `demo` section of configs/demo.json.
struct DemoSection {
  std::vector<std::string> train_corpora, eval_corpora, prompts;
  std::size_t vocab_size = 4096;
  double train_minutes = 6;
  struct Sample {
    DecoderSection decoder;
    std::uint64_t seed = 1;
    static const FieldTable<Sample>& fields();
  } sample;
  static const FieldTable<DemoSection>& fields();
};

// A config file: its top-level keys must be "model", "train" and `section`; `file` is the whole
// JSON (the run sections are read by train::RunConfig), `path` names it in errors.
template <typename Section>
struct ExperimentFile {
  std::string path;
  json file;
  Section section;
};

// Read and checked; `first_seeds` > 0 keeps only the first N seeds (`--seeds N`), more than the
// config lists is an error.
ExperimentFile<CstdeSection> load_cstde_config(const std::string& path, int first_seeds = 0);
ExperimentFile<HcmaSection> load_hcma_config(const std::string& path, int first_seeds = 0);
ExperimentFile<DemoSection> load_demo_config(const std::string& path);

// The keys of each section, one per line with its help: `structlm experiment ... --help-config`.
std::string experiment_config_help(const std::string& kind);  // "cstde", "hcma" or "demo"

}  // namespace structlm::experiment
