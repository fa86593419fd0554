// Run metadata: where and how each run was made (run_info.json), its stage times (stages.json),
// its wall time and speed, and the config of each group.
#include <algorithm>
#include <cmath>
#include <set>

#include "report/sections.h"

namespace structlm::report {

namespace {

std::string info(const json& j, const char* key) {
  if (j.is_null() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace

void add_configurations_section(Document& doc, const std::vector<RunGroup>& groups) {
  bool legend = false;
  for (const auto& g : groups) legend = legend || (!g.settings.empty() && g.label != g.settings);
  if (!legend) return;
  Section s;
  s.id = "configurations";
  s.title = "Configurations";
  Table t;
  t.caption = "The configurations compared: label (in tables and plot legends), runs, and the settings that differ "
              "between configurations (defaults filled in)";
  t.header = {"configuration", "runs", "settings"};
  for (const auto& g : groups) {
    std::string names;
    for (const auto* r : g.runs) names += (names.empty() ? "" : ", ") + r->name;
    t.rows.push_back({g.label, names, g.settings});
  }
  s.add_table(t);
  doc.sections.push_back(std::move(s));
}

void add_metadata_section(Document& doc, const std::vector<RunData>& runs, const std::vector<RunGroup>& groups) {
  Section s;
  s.id = "metadata";
  s.title = "Run metadata";
  Table t;
  t.caption = "Runs";
  t.header = {"run", "seed", "commit", "machine", "CPU", "cores", "torch", "started (UTC)", "wall time (s)",
              "tokens/s (median)"};
  bool any_info = false;
  for (const auto& r : runs) {
    any_info = any_info || !r.run_info.is_null();
    double wall = NAN;
    if (!r.stages.is_null() && r.stages.contains("total") && r.stages["total"].is_number())
      wall = r.stages["total"].get<double>();
    else if (!r.metrics.empty())
      wall = r.metrics.back().elapsed_s;
    std::vector<double> speeds;
    for (const auto& m : r.metrics)
      if (!std::isnan(m.tokens_per_s)) speeds.push_back(m.tokens_per_s);
    std::string speed = speeds.empty() ? "" : format_number(median(speeds), 0);
    std::string commit = info(r.run_info, "commit");
    if (commit.size() > 12) commit = commit.substr(0, 12);
    if (info(r.run_info, "dirty") == "true") commit += " (modified)";
    t.rows.push_back({r.name, r.seed() >= 0 ? std::to_string(r.seed()) : "", commit, info(r.run_info, "hostname"),
                      info(r.run_info, "cpu"), info(r.run_info, "cores"), info(r.run_info, "torch"),
                      info(r.run_info, "started_at"), std::isnan(wall) ? "" : format_number(wall, 1), speed});
  }
  s.add_table(t);
  if (!any_info) s.add_note("No run_info.json in these runs: commit and machine were not recorded.");

  // Stage times, one column per run, rows in the order the first run lists them.
  std::vector<std::string> stages;
  std::vector<const RunData*> timed;
  for (const auto& r : runs) {
    if (r.stages.is_null()) continue;
    timed.push_back(&r);
    for (auto it = r.stages.begin(); it != r.stages.end(); ++it)
      if (std::find(stages.begin(), stages.end(), it.key()) == stages.end()) stages.push_back(it.key());
  }
  if (!timed.empty()) {
    Table st;
    st.caption = "Stage times (seconds, stages.json)";
    st.header.push_back("stage");
    for (const auto* r : timed) st.header.push_back(r->name);
    for (const auto& name : stages) {
      std::vector<std::string> row{name};
      for (const auto* r : timed)
        row.push_back(r->stages.contains(name) && r->stages[name].is_number()
                          ? format_number(r->stages[name].get<double>(), 1)
                          : "");
      st.rows.push_back(std::move(row));
    }
    s.add_table(st);
  }

  for (const auto& g : groups) {
    const RunData* r = g.runs[0];
    if (!r->has_config()) continue;
    std::string names;
    for (const auto* x : g.runs) names += (names.empty() ? "" : ", ") + x->name;
    s.add_code("Config of " + g.label + " (" + names + "; shown: " + r->dir + "/config.json)", r->config.dump(2));
  }
  doc.sections.push_back(std::move(s));
}

}  // namespace structlm::report
