// Plots drawn by gnuplot (SVG terminal, fixed size and font), returned as <svg> elements ready to
// be inlined in the HTML page. Data goes inline in the script as here-documents, so nothing is
// written to disk and the same logs always give the same bytes.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace structlm::report {

struct Series {
  std::string title;
  std::vector<double> x, y;
  std::vector<double> lo, hi;  // a shaded band around y (spread over seeds); empty: none
  enum Style { lines, linespoints, steps, points } style = lines;
  int color = 0;  // index into a fixed palette, so one variant has one colour on every plot
                  // (past the palette's end the colours repeat with another point shape)
  int dash = 1;   // gnuplot dash type (1 solid)
  double point_size = 0;  // points and linespoints; 0: the style's default
};

struct Panel {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  bool log_x = false;
  std::vector<std::pair<double, std::string>> xtics;  // categorical axis labels; empty: numeric
};

struct Figure {
  std::vector<Panel> panels;  // side by side, or in rows of `columns` (0: one row)
  int columns = 0;
  int width = 760, height = 420;
};

// The gnuplot script for `fig`, terminal and all (exposed for tests).
std::string gnuplot_script(const Figure& fig);

// Runs gnuplot on the script and returns the SVG element, its ids prefixed with `id_prefix` so
// several plots can live in one page. Errors name gnuplot and quote its message.
std::string render_svg(const std::string& script, const std::string& id_prefix);
std::string render_figure(const Figure& fig, const std::string& id_prefix);

bool gnuplot_available();

}  // namespace structlm::report
