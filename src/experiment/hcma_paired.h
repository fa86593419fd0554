// Rare-token recall of each aligned variant against the original model, paired over targets
// (issue 15): every variant measured with one probe seed scored the same drawn targets
// (eval::FrequencyScoring), so each rare target is a pair (original hit?, variant hit?).
// McNemar's exact test reads only the discordant pairs, and a paired bootstrap over targets gives
// the recall difference's interval; Holm's correction runs over the table (variants x k).
// The pairs of all seeds are pooled (each seed draws its own sample of windows; a window two
// seeds both drew counts twice).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "experiment/hcma_result.h"
#include "report/stats.h"

namespace structlm::experiment {

struct PairedRecall {
  std::string variant;
  int k = 10;
  std::int64_t targets = 0;                 // paired rare targets over all seeds
  double recall_original = 0, recall_variant = 0;
  std::int64_t gained = 0, lost = 0;        // variant hits where the original misses, and the reverse
  report::Interval difference;              // 95 % paired bootstrap of recall_variant - recall_original
  double p = 1, p_holm = 1;                 // McNemar (exact), and after Holm
  report::Verdict verdict = report::Verdict::no_difference;
};

using SuiteResults = std::map<std::pair<std::string, std::int64_t>, HcmaSuiteResult>;  // (variant, seed)

// Every variant other than `original` at each k. A seed whose two results hold different
// targets (measured with other settings) is an error naming it; results without rare ranks
// (older files) contribute nothing, and a variant with no pairs is left out.
std::vector<PairedRecall> paired_rare_recall(const SuiteResults& results, const std::string& original,
                                             const std::vector<int>& ks, int resamples = 2000,
                                             std::uint64_t bootstrap_seed = 1);
// The Markdown table, with a sentence saying what it tests; "" when there is nothing to show.
std::string paired_recall_markdown(const std::vector<PairedRecall>& rows, std::int64_t below);

// Robustness at matched clean loss (issue 15, item 4): a method and the shrink whose a was matched
// to its clean-loss cost on validation (experiment.methods.<shrink>.match) have the same clean
// loss by construction, so their attacked losses compare robustness alone. Per attack and
// strength: each one's attacked loss (eval::AttackResult::attacked_loss) as mean ± sample sd over
// the seeds both were measured with, the paired difference method − shrink with its 95 % t
// interval and paired t test (report::paired_difference), and the clean losses on the same attack
// windows (how well the validation match carried over to the test split). As every table of this
// project (docs/METHODS.md §3): Holm's correction over the section's rows, better (lower attacked
// loss) or worse only when the Holm-adjusted p is below 0.05, "no significant difference"
// otherwise, and never from fewer than 2 seeds ("single seed").
struct MatchedRobustness {
  std::string method, shrink, attack;
  double strength = 0;
  int seeds = 0;
  double clean_method = 0, clean_shrink = 0;  // means over seeds
  double attacked_method = 0, attacked_method_sd = 0, attacked_shrink = 0, attacked_shrink_sd = 0;
  report::PairedDifference difference;  // method − shrink, paired by seed; p_holm over the section
  std::string verdict;                  // report::verdict_text
};
// `matches`: shrink variant -> the method it matches. Pairs with no common seed are left out.
std::vector<MatchedRobustness> matched_robustness(const SuiteResults& results,
                                                  const std::map<std::string, std::string>& matches);
std::string matched_robustness_markdown(const std::vector<MatchedRobustness>& rows);

}  // namespace structlm::experiment
