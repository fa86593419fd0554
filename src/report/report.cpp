#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
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
  // Label each group by the config fields whose values are not the same in every group.
  std::vector<std::map<std::string, std::string>> flat(groups.size());
  std::set<std::string> all_keys;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].runs[0]->has_config()) flatten(json::parse(keys[g]), "", flat[g]);
    for (const auto& kv : flat[g]) all_keys.insert(kv.first);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].runs[0]->has_config()) {
      groups[g].label = groups[g].runs[0]->name + " (no config.json)";
      continue;
    }
    std::string label;
    for (const auto& k : all_keys) {
      bool differs = false;
      for (std::size_t h = 0; h < groups.size() && !differs; ++h)
        differs = flat[h].count(k) != flat[g].count(k) || (flat[h].count(k) && flat[h].at(k) != flat[g].at(k));
      if (!differs) continue;
      if (!label.empty()) label += ", ";
      label += k + "=" + (flat[g].count(k) ? flat[g].at(k) : "(unset)");
    }
    groups[g].label = label.size() > 120 ? label.substr(0, 117) + "..." : label;
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

Document build_report(const std::vector<std::string>& run_dirs) {
  if (run_dirs.empty()) throw Error("report: no run directory given");
  if (!gnuplot_available()) throw Error("report: gnuplot is not installed (Debian package gnuplot-nox; run scripts/setup.sh)");
  std::vector<RunData> runs;
  runs.reserve(run_dirs.size());
  for (const auto& d : run_dirs) runs.push_back(load_run(d));
  auto groups = group_runs(runs);

  Document doc;
  doc.title = "structlm report: " + (runs.size() == 1 ? runs[0].name : std::to_string(runs.size()) + " runs");
  std::string dirs;
  for (const auto& r : runs) dirs += (dirs.empty() ? "" : ", ") + r.dir;
  doc.intro.push_back("Run directories: " + dirs + ". Regenerate with: structlm report " + dirs + ".");
  doc.intro.push_back(
      "Numbers are mean ± sample standard deviation over seeds, with the seed count; runs whose configs "
      "differ only in train.seed form one group. Bands on plots are mean ± sd.");
  PlotIds ids;
  add_training_sections(doc, runs, groups, ids);
  add_cstde_sections(doc, runs, ids);
  add_hcma_sections(doc, runs, ids);
  add_metadata_section(doc, runs, groups);
  return doc;
}

ReportFiles write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir) {
  Document doc = build_report(run_dirs);
  make_dirs(out_dir);
  ReportFiles f{out_dir + "/report.html", out_dir + "/report.md"};
  write_file_atomic(f.html, to_html(doc));
  write_file_atomic(f.markdown, to_markdown(doc));
  return f;
}

}  // namespace structlm::report
