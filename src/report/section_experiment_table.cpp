// The experiment table shared by CSTDE and HCMA: every metric per variant as mean ± sd with the
// seed count, then each variant against the baseline and each of the experiment's contrasts
// between arms, paired over seeds (stats.h), Holm over both as one family, or, with the
// experiment's primary_metrics, within the primary family and within the secondary one.
#include <cmath>

#include "core/io.h"
#include "report/sections.h"

namespace structlm::report {

namespace {

// With experiment.primary_metrics: the primary family's table (the baseline comparisons and the
// contrasts of the primary metrics together), then the secondary family's, each with its own Holm.
template <typename Cells>
void add_family_tables(Section& s, const Experiment& e, const Comparisons& all, const Cells& cells, const std::string& rule) {
  if (e.baseline.empty()) s.add_note("No baseline named in experiment.json: only the contrasts between arms.");
  std::string names;
  for (const auto& key : e.primary_metrics) names += (names.empty() ? "" : ", ") + e.metric(key).label;
  const std::vector<std::string> header = {"variant", "reference", "metric", "seeds", "difference [95 % interval]",
                                           "p", "p (Holm)", "verdict"};
  auto table = [&](bool primary, const std::string& caption) {
    Table t;
    t.caption = caption;
    t.header = header;
    for (const auto* part : {&all.baseline, &all.contrasts})
      for (const auto& x : *part)
        if (x.primary == primary) t.rows.push_back(cells(x, true));
    if (!t.rows.empty()) s.add_table(t);
  };
  const std::string what = "paired over seeds: the difference variant − reference (a ratio for geometric metrics) with "
                           "its 95 % t interval, the paired t test's p and p after Holm's correction over the ";
  table(true, "Primary comparisons (experiment.primary_metrics; the comparisons with the baseline, then the contrasts "
              "between arms), " +
                  what + std::to_string(all.tested(true)) + " primary comparisons (metrics: " + names + ")" + rule);
  table(false, "Secondary comparisons (every other metric; the comparisons with the baseline, then the contrasts between "
               "arms), " +
                   what + std::to_string(all.tested(false)) + " secondary comparisons" + rule);
}

}  // namespace

void add_experiment_tables(Section& s, const Experiment& e) {
  if (!e.description.empty()) s.add_note(e.description);
  Table t;
  t.caption = "Experiment table (" + e.path + ")";
  t.header.push_back("variant");
  for (const auto& m : e.metrics)
    t.header.push_back(m.heading() + (m.lower_is_better ? " (lower is better" : " (higher is better") +
                       (e.is_primary(m.key) ? ", primary)" : ")"));
  for (const auto& v : e.variants) {
    std::vector<std::string> row{v + (v == e.baseline ? " (baseline)" : "")};
    for (const auto& m : e.metrics) row.push_back(format_spread(e.summary(v, m.key), m.digits));
    t.rows.push_back(std::move(row));
  }
  s.add_table(t);
  const Comparisons all = compare_all(e);
  auto cells = [](const Comparison& x, bool with_reference) {
    const bool tested = x.difference.n >= 2;
    std::vector<std::string> row{x.variant};
    if (with_reference) row.push_back(x.reference);
    for (std::string cell : {x.metric->label, std::to_string(x.difference.n), format_difference(x.difference, x.metric->digits),
                             tested ? format_p(x.difference.p) : "n/a", tested ? format_p(x.difference.p_holm) : "n/a",
                             std::string(verdict_text(x.verdict))})
      row.push_back(std::move(cell));
    return row;
  };
  const std::string rule =
      "; better or worse only where the corrected p is below 0.05, fewer than 2 paired seeds gives no verdict";
  if (all.families) {
    add_family_tables(s, e, all, cells, rule);
    return;
  }
  if (e.baseline.empty()) {
    s.add_note("No baseline named in experiment.json: no comparison.");
  } else {
    Table c;
    c.caption = "Against the baseline (" + e.baseline +
                "), paired over seeds: the difference (a ratio for geometric metrics) with its 95 % t interval, the "
                "paired t test's p and p after Holm's correction over the table's " +
                std::to_string(all.tested()) + " comparisons" +
                (all.contrasts.empty() ? "" : " (the paired contrasts between arms included)") + rule;
    c.header = {"variant", "metric", "seeds", "difference [95 % interval]", "p", "p (Holm)", "verdict"};
    for (const auto& x : all.baseline) c.rows.push_back(cells(x, false));
    s.add_table(c);
  }
  if (all.contrasts.empty()) return;
  Table c;
  c.caption = "Paired contrasts between arms: the difference variant − reference (a ratio for geometric metrics), "
              "paired by seed, with its 95 % t interval, the paired t test's p and p after Holm's correction over the "
              "table's " +
              std::to_string(all.tested()) + " comparisons" +
              (e.baseline.empty() ? "" : " (the comparisons with the baseline included)") + rule;
  c.header = {"variant", "reference", "metric", "seeds", "difference [95 % interval]", "p", "p (Holm)", "verdict"};
  for (const auto& x : all.contrasts) c.rows.push_back(cells(x, true));
  s.add_table(c);
}

void add_experiment_sections(Document& doc, const std::vector<RunData>& runs, const std::string& name,
                             const std::string& title, const std::vector<ExperimentPart>& parts) {
  bool any = false;
  for (const auto& r : runs) {
    const std::string dir = r.dir + "/" + name;
    if (!file_exists(dir + "/experiment.json")) continue;
    any = true;
    Experiment e = read_experiment(dir + "/experiment.json", name);
    Section s;
    s.id = name + "-" + std::to_string(doc.sections.size());
    s.title = title + " experiment (" + r.name + ")";
    add_experiment_tables(s, e);
    std::vector<std::string> omitted;
    for (const auto& part : parts) {
      if (file_exists(dir + "/" + part.file))
        part.add(s, dir + "/" + part.file, e);
      else
        omitted.push_back(part.file);
    }
    for (const auto& o : omitted) s.add_note("Omitted: no " + dir + "/" + o + ".");
    doc.sections.push_back(std::move(s));
  }
  if (!any)
    doc.omitted.push_back(title + ": omitted, no run directory has " + name + "/experiment.json (see docs/REPORT.md).");
}

}  // namespace structlm::report
