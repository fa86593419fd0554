#include "experiment/cstde_metrics.h"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include "core/json_numbers.h"
#include "report/learning_curve.h"
#include "report/stats.h"  // wasserstein1

namespace structlm::experiment {

std::vector<report::Metric> cstde_metrics(const std::vector<std::string>& eval_corpora) {
  using report::Aggregation;
  // {key, label, unit, lower_is_better, aggregation, digits}. Perplexities and ratios to the
  // baseline multiply: their seeds aggregate geometrically, everything else arithmetically.
  std::vector<report::Metric> c;
  for (const auto& name : eval_corpora) {
    c.push_back({name + "_ppl", name + " perplexity", "", true, Aggregation::geometric, 2});
    c.push_back({name + "_bpb", name + " code length", "bits/byte", true, Aggregation::mean, 4});
  }
  // E1 (issue 14): the last validation loss on the training corpora's validation split, and how
  // many tokens the same seed's baseline needs to reach it over the tokens this run took
  // (report/learning_curve.h; not measured when the baseline never gets there).
  c.push_back({"val_loss", "validation loss, training corpora", "nats/token", true, Aggregation::mean, 4});
  c.push_back({"token_multiplier", "tokens the baseline needs for this loss", "x this run's", false,
               Aggregation::geometric, 2});
  c.push_back({"step_ms", "training step time", "ms", true, Aggregation::mean, 1});
  c.push_back({"step_time_rel", "step time vs baseline", "x baseline", true, Aggregation::geometric, 3});
  c.push_back({"peak_rss_mib", "peak RSS", "MiB", true, Aggregation::mean, 0});
  c.push_back({"rss_rel", "peak RSS vs baseline", "x baseline", true, Aggregation::geometric, 3});
  c.push_back({"params", "parameters", "", true, Aggregation::mean, 0});
  c.push_back({"params_rel", "parameters vs baseline", "x baseline", true, Aggregation::geometric, 4});
  c.push_back({"uas_dependency", "UAS of D heads", "fraction", false, Aggregation::mean, 3});
  c.push_back({"uas_attention", "UAS of attention heads", "fraction", false, Aggregation::mean, 3});
  // The trivial baselines a structural score must beat, and the same three scores on partners 2+
  // tokens away, where the previous-token baseline scores 0 by construction.
  c.push_back({"uas_adjacent", "UAS baseline: previous token as head", "fraction", false, Aggregation::mean, 3});
  c.push_back({"uas_random", "UAS baseline: random earlier head (expected)", "fraction", false, Aggregation::mean, 3});
  c.push_back({"uas_dependency_far", "UAS of D heads, partner 2+ tokens away", "fraction", false, Aggregation::mean, 3});
  c.push_back({"uas_attention_far", "UAS of attention heads, partner 2+ tokens away", "fraction", false, Aggregation::mean, 3});
  c.push_back({"uas_random_far", "UAS baseline: random head, partner 2+ tokens away", "fraction", false, Aggregation::mean, 3});
  c.push_back({"prior_weight", "log-prior weight, mean |beta|", "", false, Aggregation::mean, 4});
  c.push_back({"carry_gate", "carry gate, mean gamma", "", false, Aggregation::mean, 3});
  c.push_back({"near_loss", "loss, link partner 1-4 tokens to the left", "nats/token", true, Aggregation::mean, 4});
  c.push_back({"far_loss", "loss, link partner 9+ tokens to the left", "nats/token", true, Aggregation::mean, 4});
  c.push_back({"distinct1", "distinct-1", "fraction", false, Aggregation::mean, 4});
  c.push_back({"distinct2", "distinct-2", "fraction", false, Aggregation::mean, 4});
  c.push_back({"distinct3", "distinct-3", "fraction", false, Aggregation::mean, 4});
  c.push_back({"mtld", "MTLD", "words", false, Aggregation::mean, 1});
  c.push_back({"seq_rep4", "seq-rep-4", "fraction", true, Aggregation::mean, 4});
  c.push_back({"sentence_w1", "sentence-length W1 to reference", "words", true, Aggregation::mean, 3});
  return c;
}

// The token-weighted mean of a bucket field over distances [lo, hi]; NaN when no bucket there
// has it (results written before it was measured, or D for a model without it).
static double mean_over(const std::vector<DistanceBucket>& by_distance, int lo, int hi,
                        const std::function<std::optional<double>(const DistanceBucket&)>& field) {
  double sum = 0, n = 0;
  for (const auto& b : by_distance) {
    if (b.distance < lo || b.distance > hi) continue;
    const auto v = field(b);
    if (!v || !std::isfinite(*v)) continue;
    sum += *v * double(b.tokens);
    n += double(b.tokens);
  }
  return n > 0 ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

double loss_over(const std::vector<DistanceBucket>& by_distance, int lo, int hi) {
  double sum = 0, n = 0;
  for (const auto& b : by_distance) {
    if (b.distance < lo || b.distance > hi) continue;
    sum += b.loss * double(b.tokens);
    n += double(b.tokens);
  }
  return n > 0 ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

json cstde_table_values(const CstdeRunResult& r, const CstdeRunResult& base, const std::vector<int>& reference_lengths) {
  json v = json::object();
  for (const auto& e : r.eval) {
    v[e.corpus + "_ppl"] = e.perplexity;
    v[e.corpus + "_bpb"] = e.bits_per_byte;
  }
  v["val_loss"] = r.curve.empty() ? json(nullptr) : json(r.curve.back().loss);
  const auto multiplier = report::token_multiplier(r.curve, base.curve);
  v["token_multiplier"] = multiplier ? json(*multiplier) : json(nullptr);
  v["step_ms"] = r.step_ms;
  v["step_time_rel"] = r.step_ms / base.step_ms;
  v["peak_rss_mib"] = r.peak_rss_mib;
  v["rss_rel"] = r.peak_rss_mib / base.peak_rss_mib;
  v["params"] = r.params;
  v["params_rel"] = double(r.params) / double(base.params);
  v["uas_dependency"] = r.uas_dependency ? json(*r.uas_dependency) : json(nullptr);
  v["uas_attention"] = r.uas_attention;
  v["uas_adjacent"] = r.uas_adjacent ? json(*r.uas_adjacent) : json(nullptr);
  v["uas_random"] = r.uas_random ? json(*r.uas_random) : json(nullptr);
  constexpr int kFar = 2, kAll = 1 << 30;
  v["uas_dependency_far"] = mean_over(r.loss_by_distance, kFar, kAll, [](const DistanceBucket& b) { return b.uas_dependency; });
  v["uas_attention_far"] = mean_over(r.loss_by_distance, kFar, kAll, [](const DistanceBucket& b) { return std::optional<double>(b.uas_attention); });
  v["uas_random_far"] = mean_over(r.loss_by_distance, kFar, kAll, [](const DistanceBucket& b) { return std::optional<double>(b.uas_random); });
  v["prior_weight"] = r.prior_weight ? json(*r.prior_weight) : json(nullptr);
  v["carry_gate"] = r.carry_gate ? json(*r.carry_gate) : json(nullptr);
  v["near_loss"] = loss_over(r.loss_by_distance, 1, 4);
  v["far_loss"] = loss_over(r.loss_by_distance, 9, 1 << 30);
  const auto& g = r.generation;
  v["distinct1"] = g.distinct1;
  v["distinct2"] = g.distinct2;
  v["distinct3"] = g.distinct3;
  v["mtld"] = g.mtld;
  v["seq_rep4"] = g.seq_rep4;
  std::vector<double> gen(g.sentence_lengths.begin(), g.sentence_lengths.end());
  std::vector<double> ref(reference_lengths.begin(), reference_lengths.end());
  v["sentence_w1"] = gen.empty() ? json(nullptr) : json(report::wasserstein1(gen, ref));
  null_non_finite(v);  // a metric undefined for this run is "not measured"
  return v;
}

}  // namespace structlm::experiment
