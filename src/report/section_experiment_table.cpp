// The experiment table shared by CSTDE and HCMA: every metric per variant as mean ± sd with the
// seed count, then each variant against the baseline with the verdict rule of stats.h.
#include <cmath>

#include "core/io.h"
#include "report/sections.h"

namespace structlm::report {

void add_experiment_tables(Section& s, const Experiment& e) {
  if (!e.description.empty()) s.add_note(e.description);
  Table t;
  t.caption = "Experiment table (" + e.path + ")";
  t.header.push_back("variant");
  for (const auto& m : e.metrics) t.header.push_back(m.heading() + (m.lower_is_better ? " (lower is better)" : " (higher is better)"));
  for (const auto& v : e.variants) {
    std::vector<std::string> row{v + (v == e.baseline ? " (baseline)" : "")};
    for (const auto& m : e.metrics) row.push_back(format_spread(e.summary(v, m.key), m.digits));
    t.rows.push_back(std::move(row));
  }
  s.add_table(t);
  if (e.baseline.empty()) {
    s.add_note("No baseline named in experiment.json: no comparison.");
    return;
  }
  Table c;
  c.caption = "Against the baseline (" + e.baseline +
              "): different only where the intervals mean ± sd do not overlap; fewer than 2 seeds on either side "
              "gives no verdict";
  c.header = {"variant", "metric", "difference (variant − baseline)", "verdict"};
  for (const auto& v : e.variants) {
    if (v == e.baseline) continue;
    for (const auto& m : e.metrics) {
      Spread a = e.summary(v, m.key), b = e.summary(e.baseline, m.key);
      if (a.n == 0 || b.n == 0) continue;
      char sign = a.mean - b.mean >= 0 ? '+' : '-';
      c.rows.push_back({v, m.label, std::string(1, sign) + format_number(std::fabs(a.mean - b.mean), m.digits),
                        verdict_text(compare(a, b, m.lower_is_better))});
    }
  }
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
