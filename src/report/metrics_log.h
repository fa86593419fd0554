// metrics.jsonl, a training run's log: one line per step that logs or evaluates. One struct for
// the writer (train/trainer.cpp) and every reader (the report, the CSTDE experiment's step times),
// so a field is spelled once (metrics_log.cpp's table).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace structlm::report {

struct MetricLine {
  long long step = 0;
  // NaN where the line does not carry the field: evaluation-only lines have no train loss, log
  // lines between evaluations no val_loss.
  double loss = NAN, lr = NAN, grad_norm = NAN, tokens_per_s = NAN, val_loss = NAN, elapsed_s = NAN;
  // CSTDE models, on evaluation lines (cstde/prior_use.h): mean |beta_h|, mean carry gate gamma_l,
  // and the mean entropy (nats) of the last layer's D rows on the first validation batch.
  double prior_weight = NAN, carry_gate = NAN, d_entropy = NAN;
  // Data-parallel runs, on log lines: mean seconds per step that rank 0 waited for the gradient
  // all-reduce after its backward pass (the part the backward pass did not hide).
  double allreduce_s = NAN;

  json to_json() const;  // NaN fields left out
  // An object with an integer "step" and only this struct's fields, each a number; errors name `where`.
  static MetricLine from_json(const json& j, const std::string& where);
};

// Every line of the file, steps in non-decreasing order; errors name "PATH:LINE".
std::vector<MetricLine> read_metrics(const std::string& path);

}  // namespace structlm::report
