#include "report/learning_curve.h"

#include <cmath>

#include "core/error.h"
#include "report/metrics_log.h"

namespace structlm::report {

std::vector<CurvePoint> validation_curve(const std::string& metrics_path, double tokens_per_step) {
  std::vector<CurvePoint> curve;
  for (const auto& line : read_metrics(metrics_path))
    if (std::isfinite(line.val_loss)) {
      const double tokens = double(line.step) * tokens_per_step;
      // A resumed run may validate its last step again: keep the later line.
      if (!curve.empty() && curve.back().tokens == tokens) curve.pop_back();
      curve.push_back({tokens, line.val_loss});
    }
  return curve;
}

std::optional<double> tokens_to_reach(const std::vector<CurvePoint>& curve, double loss) {
  for (std::size_t i = 0; i < curve.size(); ++i) {
    if (curve[i].loss > loss) continue;
    if (i == 0) return curve[0].tokens;
    const CurvePoint &a = curve[i - 1], &b = curve[i];
    const double f = (a.loss - loss) / (a.loss - b.loss);  // a.loss > loss >= b.loss
    if (a.tokens <= 0) return a.tokens + f * (b.tokens - a.tokens);  // no log at 0: linear
    return std::exp(std::log(a.tokens) + f * (std::log(b.tokens) - std::log(a.tokens)));
  }
  return std::nullopt;
}

std::optional<double> token_multiplier(const std::vector<CurvePoint>& run, const std::vector<CurvePoint>& reference) {
  if (run.empty() || run.back().tokens <= 0) return std::nullopt;
  const auto needed = tokens_to_reach(reference, run.back().loss);
  if (!needed) return std::nullopt;
  return *needed / run.back().tokens;
}

}  // namespace structlm::report
