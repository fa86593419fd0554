#include "experiment/hcma_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/json_numbers.h"

namespace structlm::experiment {

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
using report::Aggregation;
}  // namespace

const std::vector<report::Metric>& hcma_metrics() {
  // {key, label, unit, lower_is_better, aggregation, digits}. Perplexity multiplies: its seeds
  // aggregate geometrically (exp of the mean loss), everything else arithmetically.
  static const std::vector<report::Metric> c = {
      {"rare_recall10", "rare-token recall@10, targets seen < 100 times", "fraction", false, Aggregation::mean, 4},
      {"rare_recall1", "rare-token recall@1, targets seen < 100 times", "fraction", false, Aggregation::mean, 4},
      {"recall10_lt10", "recall@10, targets seen < 10 times", "fraction", false, Aggregation::mean, 4},
      {"recall10_10_99", "recall@10, targets seen 10-99 times", "fraction", false, Aggregation::mean, 4},
      {"frequent_recall10", "recall@10, targets seen >= 1000 times", "fraction", false, Aggregation::mean, 4},
      {"frequent_ppl", "perplexity, targets seen >= 1000 times", "", true, Aggregation::geometric, 3},
      {"ppl", "perplexity, all targets", "", true, Aggregation::geometric, 3},
      {"loss_after_rare", "loss on the token after an input seen < 100 times", "nats/token", true, Aggregation::mean, 4},
      {"recall10_after_rare", "recall@10 on the token after an input seen < 100 times", "fraction", false, Aggregation::mean, 4},
      {"random_0.1", "loss increase, random embedding noise eps 0.1", "nats/token", true, Aggregation::mean, 4},
      {"fgsm_0.1", "loss increase, gradient-sign eps 0.1", "nats/token", true, Aggregation::mean, 4},
      {"typo_2", "loss increase, 2 typos", "nats/token", true, Aggregation::mean, 4},
      {"hotflip_2", "loss increase, 2 HotFlip substitutions", "nats/token", true, Aggregation::mean, 4},
      {"agreement_0", "agreement accuracy, 0 attractors", "fraction", false, Aggregation::mean, 3},
      {"agreement_4", "agreement accuracy, 4 attractors", "fraction", false, Aggregation::mean, 3},
      {"agreement_mean", "agreement accuracy, mean over 0-4 attractors", "fraction", false, Aggregation::mean, 3},
      {"kv_recall", "key-value recall@1, mean over distances", "fraction", false, Aggregation::mean, 3},
      {"late_loss", "loss in the second half of the context", "nats/token", true, Aggregation::mean, 4},
      {"self_similarity_adj", "self-similarity across contexts, minus baseline", "cosine", false, Aggregation::mean, 4},
      {"knn_overlap", "k-NN overlap across contexts", "fraction", false, Aggregation::mean, 4},
      {"isotropy", "isotropy I(W)", "", false, Aggregation::mean, 4},
      {"isoscore", "IsoScore of E", "", false, Aggregation::mean, 4},
      {"wordnet_hits10", "WordNet hits@10", "fraction", false, Aggregation::mean, 4},
      {"tokens_per_s", "inference throughput", "tokens/s", false, Aggregation::mean, 0},
      {"parameter_mib", "parameter memory", "MiB", true, Aggregation::mean, 1},
      {"align_wall_s", "alignment wall time", "s", true, Aggregation::mean, 1},
      {"align_peak_rss_mib", "alignment peak RSS", "MiB", true, Aggregation::mean, 0},
  };
  return c;
}

json hcma_summary(const HcmaSuiteResult& s) {
  json v = json::object();
  // Recall and loss over the targets of a count range, pooled over the buckets inside it.
  auto pooled_in = [&](const std::vector<RecallRecord>& records, std::int64_t lo, std::int64_t hi, int k, bool loss) {
    double sum = 0, n = 0;
    for (const auto& r : records) {
      const double value = loss ? r.loss : r.recall;
      if (r.k != k || r.min_count < lo || (hi >= 0 && r.min_count > hi) || !std::isfinite(value)) continue;
      sum += value * double(r.targets);
      n += double(r.targets);
    }
    return n > 0 ? sum / n : kNaN;
  };
  auto pooled = [&](std::int64_t lo, std::int64_t hi, int k, bool loss) { return pooled_in(s.recall, lo, hi, k, loss); };
  v["rare_recall10"] = pooled(0, 99, 10, false);
  v["rare_recall1"] = pooled(0, 99, 1, false);
  v["recall10_lt10"] = pooled(0, 9, 10, false);
  v["recall10_10_99"] = pooled(10, 99, 10, false);
  v["frequent_recall10"] = pooled(1000, -1, 10, false);
  v["frequent_ppl"] = std::exp(pooled(1000, -1, 1, true));
  v["ppl"] = std::exp(pooled(0, -1, 1, true));
  v["loss_after_rare"] = pooled_in(s.after_input, 0, 99, 1, true);
  v["recall10_after_rare"] = pooled_in(s.after_input, 0, 99, 10, false);
  auto attack = [&](const std::string& name, double strength) {
    for (const auto& a : s.attacks)
      if (a.attack == name && std::abs(a.strength - strength) < 1e-9) return a.loss_increase;
    return kNaN;
  };
  v["random_0.1"] = attack("random", 0.1);
  v["fgsm_0.1"] = attack("gradient_sign", 0.1);
  v["typo_2"] = attack("typo", 2);
  v["hotflip_2"] = attack("hotflip", 2);
  double agreement_sum = 0, kv_sum = 0;
  for (const auto& a : s.agreement) {
    if (a.attractors == 0) v["agreement_0"] = a.accuracy;
    if (a.attractors == 4) v["agreement_4"] = a.accuracy;
    agreement_sum += a.accuracy;
  }
  // Unweighted means: each attractor count, each distance counts once.
  v["agreement_mean"] = s.agreement.empty() ? kNaN : agreement_sum / double(s.agreement.size());
  for (const auto& r : s.key_value) kv_sum += r.recall;
  v["kv_recall"] = s.key_value.empty() ? kNaN : kv_sum / double(s.key_value.size());
  // The loss over the second half of the context: long-range use of the context shows there.
  double late = 0, ln = 0, last_start = 0;
  for (const auto& p : s.loss_by_position) last_start = std::max(last_start, double(p.position));
  for (const auto& p : s.loss_by_position)
    if (double(p.position) >= last_start / 2 && std::isfinite(p.loss)) {
      late += p.loss * double(p.tokens);
      ln += double(p.tokens);
    }
  v["late_loss"] = ln > 0 ? late / ln : kNaN;
  v["self_similarity_adj"] = s.stability.self_similarity_adjusted;
  v["knn_overlap"] = s.stability.knn_overlap;
  v["isotropy"] = s.isotropy;
  v["isoscore"] = s.isoscore;
  v["wordnet_hits10"] = s.wordnet.hits;
  if (s.inference) {
    v["tokens_per_s"] = s.inference->tokens_per_s;
    v["parameter_mib"] = s.inference->parameter_mib;
  }
  null_non_finite(v);
  return v;
}

}  // namespace structlm::experiment
