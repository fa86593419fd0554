#include "report/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/subprocess.h"
#include "report/sections.h"

namespace structlm::report {

namespace {

// "a.b.c" -> value, for every leaf of a JSON object.
void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j.dump();
  }
}

}  // namespace

std::string experiment_run_name(const std::string& run_name) {
  const auto at = run_name.rfind("-seed");
  if (at == std::string::npos || at == 0 || at + 5 == run_name.size()) return "";
  for (std::size_t i = at + 5; i < run_name.size(); ++i)
    if (run_name[i] < '0' || run_name[i] > '9') return "";
  return run_name.substr(0, at);
}

std::vector<RunGroup> group_runs(const std::vector<RunData>& runs) {
  std::vector<RunGroup> groups;
  std::vector<std::string> keys;
  for (const auto& r : runs) {
    std::string k = r.group_key();
    auto it = std::find(keys.begin(), keys.end(), k);
    if (it == keys.end()) {
      keys.push_back(k);
      groups.push_back({});
      groups.back().runs.push_back(&r);
    } else {
      groups[std::size_t(it - keys.begin())].runs.push_back(&r);
    }
  }
  if (groups.size() == 1) {
    groups[0].label = "all runs";
    return groups;
  }
  // Settings: the config fields (defaults filled in) whose values are not the same in every group
  // that has a config.
  std::vector<std::map<std::string, std::string>> flat(groups.size());
  std::set<std::string> all_keys;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].runs[0]->has_config()) flatten(groups[g].runs[0]->group_config(), "", flat[g]);
    for (const auto& kv : flat[g]) all_keys.insert(kv.first);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].runs[0]->has_config()) continue;
    std::string settings;
    for (const auto& k : all_keys) {
      bool differs = false;
      for (std::size_t h = 0; h < groups.size() && !differs; ++h)
        differs = groups[h].runs[0]->has_config() &&
                  (flat[h].count(k) != flat[g].count(k) || (flat[h].count(k) && flat[h].at(k) != flat[g].at(k)));
      if (!differs) continue;
      if (!settings.empty()) settings += ", ";
      settings += k + "=" + (flat[g].count(k) ? flat[g].at(k) : "(unset)");
    }
    groups[g].settings = settings;
  }
  // NAME where every run of a group is NAME-seedN, unless another group has the same NAME.
  std::vector<std::string> names(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const auto* r : groups[g].runs) {
      const std::string n = experiment_run_name(r->name);
      if (n.empty() || (!names[g].empty() && n != names[g])) {
        names[g].clear();
        break;
      }
      names[g] = n;
    }
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    RunGroup& G = groups[g];
    const bool unique_name = !names[g].empty() && std::count(names.begin(), names.end(), names[g]) == 1;
    std::string run_names;
    for (const auto* r : G.runs) run_names += (run_names.empty() ? "" : ", ") + r->name;
    if (!G.runs[0]->has_config())
      G.label = (unique_name ? names[g] : G.runs[0]->name) + " (no config.json)";
    else if (unique_name)
      G.label = names[g];
    else if (G.settings.empty())
      G.label = "all runs";  // the one group with a config among groups without
    else
      G.label = G.settings.size() <= 100 ? G.settings : run_names;
  }
  // Labels key the curves and colours: never two groups under one label.
  for (std::size_t g = 0; g < groups.size(); ++g) {
    int same = 1;
    for (std::size_t h = 0; h < g; ++h) same += groups[h].label == groups[g].label;
    if (same > 1) groups[g].label += " (#" + std::to_string(same) + ")";
  }
  return groups;
}

Series curve_series(const Curve& c, int color, Series::Style style) {
  Series s;
  s.title = c.group;
  s.style = style;
  s.color = color;
  const bool custom = !c.band.empty();
  bool band = custom;
  for (const auto& y : c.y) band = band || y.n > 1;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    s.x.push_back(c.x[i]);
    s.y.push_back(c.y[i].mean);
    if (band && custom) {
      const Interval& b = c.band[i];
      const bool known = std::isfinite(b.lo) && std::isfinite(b.hi);
      s.lo.push_back(known ? b.lo : c.y[i].mean);
      s.hi.push_back(known ? b.hi : c.y[i].mean);
    } else if (band) {
      s.lo.push_back(c.y[i].lo);
      s.hi.push_back(c.y[i].hi);
    }
  }
  return s;
}

namespace {

// Rows: the x values of every curve; a column per curve with cell(curve, index of x).
Table curve_columns(const std::string& caption, const std::string& x_label, const std::vector<Curve>& curves,
                    const std::function<std::string(const Curve&, std::size_t)>& cell) {
  Table t;
  t.caption = caption;
  t.header.push_back(x_label);
  std::set<double> xs;
  for (const auto& c : curves) {
    t.header.push_back(c.group);
    xs.insert(c.x.begin(), c.x.end());
  }
  for (double x : xs) {
    std::vector<std::string> row{format_number(x, x == std::floor(x) ? 0 : 4)};
    for (const auto& c : curves) {
      auto it = std::find(c.x.begin(), c.x.end(), x);
      row.push_back(it == c.x.end() ? "" : cell(c, std::size_t(it - c.x.begin())));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace

Table curve_table(const std::string& caption, const std::string& x_label, const std::vector<Curve>& curves,
                  int digits) {
  return curve_columns(caption, x_label, curves,
                       [&](const Curve& c, std::size_t i) { return format_spread(c.y[i], digits); });
}

Table curve_band_table(const std::string& caption, const std::string& x_label, const std::vector<Curve>& curves,
                       int digits) {
  return curve_columns(caption, x_label, curves, [&](const Curve& c, std::size_t i) -> std::string {
    if (c.band.empty() || !std::isfinite(c.band[i].lo) || !std::isfinite(c.band[i].hi)) return "n/a";
    return "[" + format_number(c.band[i].lo, digits) + ", " + format_number(c.band[i].hi, digits) + "]";
  });
}

int color_of(const std::vector<std::string>& order, const std::string& name) {
  auto it = std::find(order.begin(), order.end(), name);
  return it == order.end() ? int(order.size()) : int(it - order.begin());
}

void add_loss_curves(Section& s, const std::string& path, const char* at_key, Panel panel, const std::string& caption,
                     const std::vector<std::string>& order, PlotIds& ids) {
  std::vector<SeriesPoint> points;
  for (const auto& l : read_loss_log(path, at_key)) points.push_back({l.variant, l.seed, double(l.at), l.loss, l.where});
  check_unique_points(points, path, at_key);
  auto curves = aggregate(points);
  for (const auto& c : curves) panel.series.push_back(curve_series(c, color_of(order, c.group)));
  Figure f;
  f.panels.push_back(panel);
  s.add_plot({caption + " (" + path + "); band: mean ± sd over seeds.", render_figure(f, ids())});
  s.add_table(curve_table(panel.title, at_key, curves));
}

Document build_report(const std::vector<std::string>& run_dirs, const ReportOptions& opts) {
  if (run_dirs.empty()) throw Error("report: no run directory given");
  if (!gnuplot_available()) throw Error("report: gnuplot is not installed (Debian package gnuplot-nox; run scripts/setup.sh)");
  std::vector<RunData> runs;
  runs.reserve(run_dirs.size());
  for (const auto& d : run_dirs) runs.push_back(load_run(d, opts.read_config));
  auto groups = group_runs(runs);

  Document doc;
  doc.title = "structlm report: " + (runs.size() == 1 ? runs[0].name : std::to_string(runs.size()) + " runs");
  std::string dirs, command = "structlm report";
  for (const auto& r : runs) {
    dirs += (dirs.empty() ? "" : ", ") + r.dir;
    command += " " + shell_quote(r.dir);
  }
  if (!opts.out_dir.empty() && opts.out_dir != runs[0].dir) command += " --out " + shell_quote(opts.out_dir);
  doc.intro.push_back("Run directories: " + dirs + ".");
  doc.intro.push_back("Regenerate with: " + command);  // a shell command line, nothing after it
  doc.intro.push_back(
      "Numbers are mean ± sample standard deviation over seeds, with the seed count; runs whose configs "
      "differ only in train.seed form one group" +
      std::string(opts.read_config ? " (configs compared with every default filled in, as structlm train reads them)"
                                   : "") +
      ". Bands on plots are mean ± sd.");
  for (const auto& r : runs)
    if (!r.config_note.empty())
      doc.intro.push_back("Config of " + r.name + " compared as written, not as structlm train reads it: " +
                          r.config_note);
  PlotIds ids;
  add_configurations_section(doc, groups);
  add_training_sections(doc, runs, groups, ids);
  add_cstde_sections(doc, runs, ids);
  add_hcma_sections(doc, runs, ids);
  add_metadata_section(doc, runs, groups);
  return doc;
}

ReportFiles write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                         const ConfigReader& read_config) {
  Document doc = build_report(run_dirs, {read_config, out_dir});
  make_dirs(out_dir);
  ReportFiles f{out_dir + "/report.html", out_dir + "/report.md"};
  write_file_atomic(f.html, to_html(doc));
  write_file_atomic(f.markdown, to_markdown(doc));
  return f;
}

}  // namespace structlm::report
