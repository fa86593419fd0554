#include "report/experiment_markdown.h"

#include <cmath>

#include "report/stats.h"

namespace structlm::report {

std::string experiment_markdown(const Experiment& e) {
  std::string md = "| metric |";
  std::string rule = "|---|";
  for (const auto& v : e.variants) {
    md += " " + v + (v == e.baseline ? " (baseline)" : "") + " |";
    rule += "---|";
  }
  md += "\n" + rule + "\n";
  for (const auto& m : e.metrics) {
    md += "| " + m.heading() + (m.lower_is_better ? " ↓" : " ↑") + " |";
    const Spread base = e.baseline.empty() ? Spread{} : e.summary(e.baseline, m.key);
    for (const auto& v : e.variants) {
      const Spread s = e.summary(v, m.key);
      std::string cell = s.n == 0 ? "not measured" : format_spread(s, m.digits);
      if (v != e.baseline && s.n > 0 && base.n > 0) {
        const double rel = base.mean != 0 ? 100.0 * (s.mean - base.mean) / std::fabs(base.mean) : NAN;
        char buf[48];
        std::snprintf(buf, sizeof buf, "%+.1f%%", rel);
        cell += std::string("; ") + (std::isfinite(rel) ? buf : "") + " " + verdict_text(compare(s, base, m.lower_is_better));
      }
      md += " " + cell + " |";
    }
    md += "\n";
  }
  return md;
}

}  // namespace structlm::report
