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

}  // namespace structlm::experiment
