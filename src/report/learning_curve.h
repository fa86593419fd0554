// Learning curves over tokens, and the comparison E1 of the CSTDE experiment asks for (issue 14):
// how many tokens the baseline needs to reach a run's loss. No torch: plain numbers from the
// validation lines of metrics.jsonl (train.eval_log_points gives log-spaced ones).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace structlm::report {

struct CurvePoint {
  double tokens = 0;  // training tokens seen when validated
  double loss = 0;    // validation loss, nats/token
};

// The validation lines of a training log (metrics.jsonl), as tokens = step x tokens_per_step;
// errors name the file (report/metrics_log.h's checks).
std::vector<CurvePoint> validation_curve(const std::string& metrics_path, double tokens_per_step);

// The tokens at which `curve` (ascending tokens) first comes down to `loss`: linear in
// log(tokens) between the last point above it and the first at or below it; the first point's
// tokens when that is already at or below; nullopt when no point reaches it (the reference would
// need more than its whole budget) or the curve is empty.
std::optional<double> tokens_to_reach(const std::vector<CurvePoint>& curve, double loss);

// The token multiplier of a run against a reference (the baseline at the same seed): the tokens
// the reference needs to reach the run's last validation loss, over the tokens the run took to
// get there. > 1: the run saves tokens. nullopt when either curve is empty or the reference never
// gets there.
std::optional<double> token_multiplier(const std::vector<CurvePoint>& run, const std::vector<CurvePoint>& reference);

}  // namespace structlm::report
