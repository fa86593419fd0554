#include "report/metric.h"

#include "core/error.h"
#include "report/jsonl.h"

namespace structlm::report {

const char* aggregation_name(Aggregation a) { return a == Aggregation::geometric ? "geometric" : "mean"; }

std::string Metric::heading() const { return unit.empty() ? label : label + " (" + unit + ")"; }

json Metric::to_json() const {
  return {{"key", key},
          {"label", label},
          {"unit", unit},
          {"lower_is_better", lower_is_better},
          {"aggregation", aggregation_name(aggregation)},
          {"digits", digits}};
}

Metric Metric::from_json(const json& m, const std::string& where) {
  if (!m.is_object()) throw Error(where + ": expected an object");
  Metric em;
  em.key = string_field(m, "key", where);
  em.label = m.contains("label") ? string_field(m, "label", where) : em.key;
  if (m.contains("unit")) em.unit = string_field(m, "unit", where);
  if (m.contains("lower_is_better")) {
    if (!m["lower_is_better"].is_boolean()) throw Error(where + ": field 'lower_is_better' must be true or false");
    em.lower_is_better = m["lower_is_better"].get<bool>();
  }
  if (m.contains("aggregation")) {
    const std::string a = string_field(m, "aggregation", where);
    if (a != "mean" && a != "geometric")
      throw Error(where + ": field 'aggregation' must be \"mean\" or \"geometric\", not \"" + a + "\"");
    em.aggregation = a == "geometric" ? Aggregation::geometric : Aggregation::mean;
  }
  em.digits = int(optional_number(m, "digits", 4, where));
  return em;
}

json metrics_json(const std::vector<Metric>& metrics) {
  json out = json::array();
  for (const auto& m : metrics) out.push_back(m.to_json());
  return out;
}

Spread aggregate(const std::vector<double>& values, Aggregation a) {
  return a == Aggregation::geometric ? summarize_geometric(values) : summarize(values);
}

}  // namespace structlm::report
