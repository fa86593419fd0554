#include "report/gnuplot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/subprocess.h"

namespace structlm::report {

namespace {

// Colour-blind-friendly palette (Okabe–Ito), then a few more distinct colours.
const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                          "#56B4E9", "#000000", "#F0E442", "#7F7F7F", "#8C564B"};
constexpr int kPaletteSize = sizeof kPalette / sizeof kPalette[0];

const char* color(int i) { return kPalette[((i % kPaletteSize) + kPaletteSize) % kPaletteSize]; }
// Filled circle for the palette's first round, then square, triangle, ...: an 11th variant shares
// the 1st one's colour but not its points.
int point_type(int i) {
  const int types[] = {7, 5, 9, 11, 13};
  return types[(std::abs(i) / kPaletteSize) % 5];
}

// gnuplot single-quoted string: only the quote itself needs escaping (doubled).
std::string quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "''";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o + "'";
}

std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

void write_panel(std::ostringstream& s, const Panel& p, int panel_index) {
  s << "reset\n"
    << "set title " << quote(p.title) << "\n"
    << "set xlabel " << quote(p.xlabel) << "\nset ylabel " << quote(p.ylabel) << "\n"
    << "set grid lc rgb '#dddddd'\nset key outside right top box opaque\nset border lc rgb '#444444'\n";
  if (p.log_x) s << "set logscale x\n";
  if (!p.xtics.empty()) {
    s << "set xtics (";
    for (std::size_t i = 0; i < p.xtics.size(); ++i)
      s << (i ? ", " : "") << quote(p.xtics[i].second) << " " << num(p.xtics[i].first);
    s << ")\nset offsets 0.3, 0.3, 0, 0\n";
  }
  // One data block per series: x y [lo hi].
  std::vector<std::string> plots;
  for (std::size_t k = 0; k < p.series.size(); ++k) {
    const Series& se = p.series[k];
    std::string name = "$d" + std::to_string(panel_index) + "_" + std::to_string(k);
    const bool band = !se.lo.empty() && se.lo.size() == se.x.size() && se.hi.size() == se.x.size();
    s << name << " << EOD\n";
    for (std::size_t i = 0; i < se.x.size(); ++i) {
      s << num(se.x[i]) << " " << num(se.y[i]);
      if (band) s << " " << num(se.lo[i]) << " " << num(se.hi[i]);
      s << "\n";
    }
    s << "EOD\n";
    const std::string rgb = std::string("lc rgb '") + color(se.color) + "'";
    if (band)
      plots.push_back(name + " using 1:3:4 with filledcurves fc rgb '" + color(se.color) +
                      "' fs transparent solid 0.18 noborder notitle");
    std::string style;
    const std::string pt = " pt " + std::to_string(point_type(se.color)) + " ps ";
    auto size = [&](double d) { return num(se.point_size > 0 ? se.point_size : d); };
    switch (se.style) {
      case Series::lines: style = "with lines lw 1.6"; break;
      case Series::linespoints: style = "with linespoints lw 1.6" + pt + size(0.6); break;
      case Series::steps: style = "with histeps lw 1.6"; break;
      case Series::points: style = "with points" + pt + size(0.35); break;
    }
    plots.push_back(name + " using 1:2 " + style + " " + rgb + " dt " + std::to_string(se.dash) + " title " +
                    quote(se.title));
  }
  if (plots.empty()) {
    s << "unset key\nset label 1 'no data' at graph 0.5, 0.5 center\nplot [0:1][0:1] NaN notitle\n";
    return;
  }
  s << "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) s << (i ? ", \\\n     " : "") << plots[i];
  s << "\n";
}

}  // namespace

std::string gnuplot_script(const Figure& fig) {
  std::ostringstream s;
  // noenhanced: variant and corpus names are shown literally (no '_' subscripts).
  s << "set terminal svg size " << fig.width << "," << fig.height
    << " fixed noenhanced font 'DejaVu Sans,11' background '#ffffff'\n"
    << "set output\nset encoding utf8\n";
  if (fig.panels.size() > 1) {
    const std::size_t n = fig.panels.size(), cols = fig.columns > 0 ? std::min<std::size_t>(fig.columns, n) : n;
    s << "set multiplot layout " << (n + cols - 1) / cols << "," << cols << "\n";
  }
  // `reset` at the start of each panel clears the previous panel's settings but keeps the
  // terminal, the output and the multiplot layout.
  for (std::size_t i = 0; i < fig.panels.size(); ++i) write_panel(s, fig.panels[i], int(i));
  if (fig.panels.size() > 1) s << "unset multiplot\n";
  return s.str();
}

std::string render_svg(const std::string& script, const std::string& id_prefix) {
  ProcessResult r = run_process({"gnuplot"}, script);
  if (r.exit_code != 0 || r.out.find("<svg") == std::string::npos)
    throw Error("gnuplot: failed (exit " + std::to_string(r.exit_code) + "): " + r.err.substr(0, 600));
  std::string svg = r.out.substr(r.out.find("<svg"));
  // Inline SVGs share one id namespace in the page: give each plot its own.
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = svg.find(from, pos)) != std::string::npos; pos += to.size())
      svg.replace(pos, from.size(), to);
  };
  replace_all("id='", "id='" + id_prefix);
  replace_all("id=\"", "id=\"" + id_prefix);
  replace_all("href='#", "href='#" + id_prefix);
  replace_all("href=\"#", "href=\"#" + id_prefix);
  replace_all("url(#", "url(#" + id_prefix);
  return svg;
}

std::string render_figure(const Figure& fig, const std::string& id_prefix) {
  return render_svg(gnuplot_script(fig), id_prefix);
}

bool gnuplot_available() { return program_available("gnuplot"); }

}  // namespace structlm::report
