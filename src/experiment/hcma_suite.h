// `structlm eval --suite hcma`: every measurement of docs/METHODS.md §2d on one checkpoint, as
// one JSON object (what `experiment hcma` stores per variant and seed):
//   recall         next-token recall@k and loss by training-frequency bucket of the target
//   summary        the headline numbers (rare recall@10 = targets seen < 100 times, frequent-token
//                  perplexity = targets seen >= 1000 times, ...)
//   attacks        loss increase and flip rate per attack and strength
//   loss_by_position, agreement, key_value, stability, isotropy, isoscore, wordnet, inference
#pragma once
#include <string>
#include <vector>

#include "core/fields.h"
#include "core/json.h"
#include "experiment/hcma_result.h"
#include "model/gpt.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

struct HcmaSuiteOptions {
  std::string corpus = "brown";       // held-out text: recall, attacks, stability
  std::string long_corpus = "kjv";    // long documents: loss by position
  std::string split = "test";         // "val" while choosing settings: never tune on test
  std::string tokenizer;
  // The training-frequency reference: token shards (the model's training data). Empty: the
  // train split of `corpus`.
  std::vector<std::string> frequency_shards;
  // > 0: count only the first N tokens of those shards (a small model's training data holds few
  // rare tokens at a small vocabulary; the quick experiment uses this to have rare buckets at all).
  std::size_t frequency_tokens = 0;
  // Scored targets (0: the whole split), whole windows drawn by `seed` (eval::FrequencyScoring).
  std::size_t recall_tokens = 100000;
  std::size_t position_windows = 48;
  std::vector<double> eps = {0.05, 0.1, 0.2, 0.4};
  std::size_t attack_windows = 16;
  std::size_t token_attack_sequences = 24;
  int agreement_per_count = 60;
  int kv_trials = 48;
  std::size_t stability_tokens = 40000;
  std::uint64_t seed = 1;             // attack noise, sampled sequences, the recall's drawn windows (0: the first ones)
  bool speed = true;                  // inference tokens/s (timed: noisy on shared machines)
  // The model's forward passes (auto|fp32|bf16, model/precision.h); the tables' geometry is
  // always computed in fp32 or double, outside autocast.
  std::string precision = "auto";

  // The fields an experiment config's "suite" section may set (tokenizer, shards and seed are set
  // by the caller).
  static const FieldTable<HcmaSuiteOptions>& fields();
};

// The "suite" section of an experiment config (the same names as the fields); unknown keys and
// bad values are errors naming `where`.
void read_hcma_suite_options(const json& j, const std::string& where, HcmaSuiteOptions& h);

// Corpora, shards, the tokenizer and WordNet come from `ws`. Any architecture, through the
// embedding view of model/causal_lm.h (the GPT, the Llama family).
HcmaSuiteResult run_hcma_suite(model::CausalLM& model, const workspace::Workspace& ws, const HcmaSuiteOptions& opt);
inline HcmaSuiteResult run_hcma_suite(model::GPT& model, const workspace::Workspace& ws, const HcmaSuiteOptions& opt) {
  return run_hcma_suite(*model, ws, opt);
}

}  // namespace structlm::experiment
