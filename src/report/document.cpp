#include "report/document.h"

#include <sstream>

namespace structlm::report {

void Section::add_note(std::string text) {
  Block b;
  b.kind = Block::note;
  b.text = std::move(text);
  blocks.push_back(std::move(b));
}

void Section::add_table(Table t) {
  Block b;
  b.kind = Block::table;
  b.tab = std::move(t);
  blocks.push_back(std::move(b));
}

void Section::add_plot(Plot p) {
  Block b;
  b.kind = Block::plot;
  b.fig = std::move(p);
  blocks.push_back(std::move(b));
}

void Section::add_code(std::string caption, std::string text) {
  add_note(std::move(caption));
  Block b;
  b.kind = Block::code;
  b.text = std::move(text);
  blocks.push_back(std::move(b));
}

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

namespace {

// Plain CSS, no external fonts or scripts: the page must open with no network.
const char* kStyle = R"(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
nav ul { columns: 2; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 13px; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
tr:nth-child(even) td { background: #f8f8f8; }
figure { margin: 1em 0 2em; }
figcaption { font-size: 13px; color: #444; margin-top: .3em; }
figure svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
pre { background: #f4f4f4; padding: .7em; overflow-x: auto; font-size: 12px; }
p.omitted { color: #666; font-style: italic; }
)";

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o;
}

}  // namespace

std::string to_html(const Document& d) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html_escape(d.title)
    << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<h1>" << html_escape(d.title) << "</h1>\n";
  for (const auto& p : d.intro) h << "<p>" << html_escape(p) << "</p>\n";
  h << "<nav><ul>\n";
  for (const auto& s : d.sections) h << "<li><a href=\"#" << s.id << "\">" << html_escape(s.title) << "</a></li>\n";
  h << "</ul></nav>\n";
  for (const auto& line : d.omitted) h << "<p class=\"omitted\">" << html_escape(line) << "</p>\n";
  for (const auto& s : d.sections) {
    h << "<section id=\"" << s.id << "\">\n<h2>" << html_escape(s.title) << "</h2>\n";
    for (const auto& b : s.blocks) {
      switch (b.kind) {
        case Block::note: h << "<p>" << html_escape(b.text) << "</p>\n"; break;
        case Block::code: h << "<pre>" << html_escape(b.text) << "</pre>\n"; break;
        case Block::table:
          h << "<table>\n<caption>" << html_escape(b.tab.caption) << "</caption>\n<tr>";
          for (const auto& c : b.tab.header) h << "<th>" << html_escape(c) << "</th>";
          h << "</tr>\n";
          for (const auto& r : b.tab.rows) {
            h << "<tr>";
            for (const auto& c : r) h << "<td>" << html_escape(c) << "</td>";
            h << "</tr>\n";
          }
          h << "</table>\n";
          break;
        case Block::plot:
          h << "<figure>\n" << b.fig.svg << "\n<figcaption>" << html_escape(b.fig.caption) << "</figcaption>\n</figure>\n";
          break;
      }
    }
    h << "</section>\n";
  }
  h << "</body>\n</html>\n";
  return h.str();
}

std::string to_markdown(const Document& d) {
  std::ostringstream m;
  m << "# " << d.title << "\n\n";
  for (const auto& p : d.intro) m << p << "\n\n";
  for (const auto& line : d.omitted) m << "_" << line << "_\n\n";
  for (const auto& s : d.sections) {
    m << "## " << s.title << "\n\n";
    for (const auto& b : s.blocks) {
      switch (b.kind) {
        case Block::note: m << b.text << "\n\n"; break;
        case Block::code: m << "```\n" << b.text << (b.text.empty() || b.text.back() != '\n' ? "\n" : "") << "```\n\n"; break;
        case Block::table:
          m << "**" << b.tab.caption << "**\n\n|";
          for (const auto& c : b.tab.header) m << " " << md_cell(c) << " |";
          m << "\n|";
          for (std::size_t i = 0; i < b.tab.header.size(); ++i) m << (i == 0 ? " --- |" : " ---: |");
          m << "\n";
          for (const auto& r : b.tab.rows) {
            m << "|";
            for (const auto& c : r) m << " " << md_cell(c) << " |";
            m << "\n";
          }
          m << "\n";
          break;
        case Block::plot: m << "_Plot in report.html: " << b.fig.caption << "_\n\n"; break;
      }
    }
  }
  return m.str();
}

}  // namespace structlm::report
