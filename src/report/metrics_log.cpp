#include "report/metrics_log.h"

#include "core/error.h"
#include "report/jsonl.h"

namespace structlm::report {

namespace {

// The optional numeric fields, in the order they are written.
struct NumberField {
  const char* name;
  double MetricLine::*member;
};
constexpr NumberField kNumbers[] = {{"loss", &MetricLine::loss},
                                    {"lr", &MetricLine::lr},
                                    {"grad_norm", &MetricLine::grad_norm},
                                    {"tokens_per_s", &MetricLine::tokens_per_s},
                                    {"val_loss", &MetricLine::val_loss},
                                    {"elapsed_s", &MetricLine::elapsed_s},
                                    {"prior_weight", &MetricLine::prior_weight},
                                    {"carry_gate", &MetricLine::carry_gate},
                                    {"d_entropy", &MetricLine::d_entropy},
                                    {"allreduce_s", &MetricLine::allreduce_s}};

}  // namespace

json MetricLine::to_json() const {
  json j = {{"step", step}};
  for (const auto& f : kNumbers)
    if (!std::isnan(this->*f.member)) j[f.name] = this->*f.member;
  return j;
}

MetricLine MetricLine::from_json(const json& j, const std::string& where) {
  std::vector<std::string> known = {"step"};
  for (const auto& f : kNumbers) known.push_back(f.name);
  auto it = j.find("step");
  if (it == j.end() || !it->is_number_integer()) throw Error(where + ": field 'step' missing or not an integer");
  check_known_keys(j, known, where);
  MetricLine m;
  m.step = it->get<long long>();
  for (const auto& f : kNumbers) m.*f.member = optional_number(j, f.name, NAN, where);
  return m;
}

std::vector<MetricLine> read_metrics(const std::string& path) {
  std::vector<MetricLine> out;
  for (const auto& line : read_jsonl(path)) {
    MetricLine m = MetricLine::from_json(line.value, line.where);
    if (!out.empty() && m.step < out.back().step)
      throw Error(line.where + ": step " + std::to_string(m.step) + " comes after step " +
                  std::to_string(out.back().step) + " (log out of order)");
    out.push_back(m);
  }
  return out;
}

}  // namespace structlm::report
