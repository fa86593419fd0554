#include "report/experiment_markdown.h"

#include <algorithm>
#include <cmath>

#include "report/stats.h"

namespace structlm::report {

std::string experiment_markdown(const Experiment& e) {
  const Comparisons all = compare_all(e);
  const std::vector<Comparison>& comparisons = all.baseline;
  auto verdict_of = [&](const std::string& variant, const std::string& key) -> const Comparison* {
    for (const auto& c : comparisons)
      if (c.variant == variant && c.metric->key == key) return &c;
    return nullptr;
  };
  std::string md = "| metric |";
  std::string rule = "|---|";
  for (const auto& v : e.variants) {
    md += " " + v + (v == e.baseline ? " (baseline)" : "") + " |";
    rule += "---|";
  }
  md += "\n" + rule + "\n";
  for (const auto& m : e.metrics) {
    md += "| " + m.heading() + (m.lower_is_better ? " ↓" : " ↑") + (all.families && e.is_primary(m.key) ? " (primary)" : "") +
          " |";
    const Spread base = e.baseline.empty() ? Spread{} : e.summary(e.baseline, m.key);
    for (const auto& v : e.variants) {
      const Spread s = e.summary(v, m.key);
      std::string cell = s.n == 0 ? "not measured" : format_spread(s, m.digits);
      if (const Comparison* c = v != e.baseline && s.n > 0 ? verdict_of(v, m.key) : nullptr) {
        const double rel = base.mean != 0 ? 100.0 * (s.mean - base.mean) / std::fabs(base.mean) : NAN;
        char buf[48];
        std::snprintf(buf, sizeof buf, "%+.1f%%", rel);
        cell += std::string("; ") + (std::isfinite(rel) ? buf : "") + " " + verdict_text(c->verdict);
      }
      md += " " + cell + " |";
    }
    md += "\n";
  }
  auto row = [](const Comparison& c, bool with_reference) {
    const bool tested = c.difference.n >= 2;
    return "| " + c.variant + " | " + (with_reference ? c.reference + " | " : "") + c.metric->label + " | " +
           std::to_string(c.difference.n) + " | " + format_difference(c.difference, c.metric->digits) + " | " +
           (tested ? format_p(c.difference.p) : "n/a") + " | " + (tested ? format_p(c.difference.p_holm) : "n/a") +
           " | " + verdict_text(c.verdict) + " |\n";
  };
  if (all.families && (!comparisons.empty() || !all.contrasts.empty())) {
    // The primary endpoints first, under their own heading, baseline comparisons and contrasts in
    // one table; then the secondary family as the one-family table is laid out.
    std::string names;
    for (const auto& key : e.primary_metrics) names += (names.empty() ? "" : ", ") + e.metric(key).label;
    md += "\nPrimary comparisons (experiment.primary_metrics), paired over seeds (difference variant − reference, or "
          "ratio for geometric metrics, with its 95 % t interval; p of the paired t test, and after Holm's correction "
          "over the " +
          std::to_string(all.tested(true)) + " primary comparisons (metrics: " + names + ")):\n\n";
    md += "| variant | reference | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const auto* part : {&comparisons, &all.contrasts})
      for (const auto& c : *part)
        if (c.primary) md += row(c, true);
    const std::string family = std::to_string(all.tested(false)) + " secondary comparisons (every other metric)";
    auto secondary = [](const std::vector<Comparison>& v) {
      return std::any_of(v.begin(), v.end(), [](const Comparison& c) { return !c.primary; });
    };
    const bool base = secondary(comparisons), between = secondary(all.contrasts);
    if (base) {
      md += "\nSecondary comparisons, paired over seeds against " + e.baseline +
            " (difference variant − baseline, or ratio for geometric metrics, with its 95 % t interval; p of the paired "
            "t test, and after Holm's correction over the " +
            family + (between ? ", the secondary contrasts below included" : "") + "):\n\n";
      md += "| variant | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n|---|---|---|---|---|---|---|\n";
      for (const auto& c : comparisons)
        if (!c.primary) md += row(c, false);
    }
    if (between) {
      md += "\nSecondary paired contrasts between arms (difference variant − reference paired by seed, or ratio for "
            "geometric metrics, with its 95 % t interval; p of the paired t test, and after Holm's correction over the " +
            family + (base ? ", the secondary comparisons with the baseline above included" : "") + "):\n\n";
      md += "| variant | reference | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
            "|---|---|---|---|---|---|---|---|\n";
      for (const auto& c : all.contrasts)
        if (!c.primary) md += row(c, true);
    }
    return md;
  }
  const std::string family = std::to_string(all.tested()) + " comparisons of this table";
  if (!comparisons.empty()) {
    md += "\nPaired over seeds against " + e.baseline +
          " (difference variant − baseline, or ratio for geometric metrics, with its 95 % t interval; "
          "p of the paired t test, and after Holm's correction over the " +
          family + (all.contrasts.empty() ? "" : ", the paired contrasts below included") + "):\n\n";
    md += "| variant | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n|---|---|---|---|---|---|---|\n";
    for (const auto& c : comparisons) md += row(c, false);
  }
  if (!all.contrasts.empty()) {
    md += "\nPaired contrasts between arms (difference variant − reference paired by seed, or ratio for geometric "
          "metrics, with its 95 % t interval; p of the paired t test, and after Holm's correction over the " +
          family + (comparisons.empty() ? "" : ", the baseline comparisons above included") + "):\n\n";
    md += "| variant | reference | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const auto& c : all.contrasts) md += row(c, true);
  }
  return md;
}

}  // namespace structlm::report
