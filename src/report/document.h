// The report as data: sections of notes, tables and plots. One document renders both to HTML
// (with the plots inline) and to Markdown (tables and notes), so the two can never disagree.
#pragma once
#include <string>
#include <vector>

namespace structlm::report {

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Plot {
  std::string caption;
  std::string svg;  // inline <svg> element made by gnuplot (see gnuplot.h)
};

struct Block {
  enum Kind { note, table, plot, code } kind = note;
  std::string text;  // note (plain text) or code (preformatted)
  Table tab;
  Plot fig;
};

struct Section {
  std::string id;  // HTML anchor
  std::string title;
  std::vector<Block> blocks;

  void add_note(std::string text);
  void add_table(Table t);
  void add_plot(Plot p);
  void add_code(std::string caption, std::string text);  // caption as a note, then the text
};

struct Document {
  std::string title;
  std::vector<std::string> intro;  // notes before the sections
  std::vector<Section> sections;
  // Sections whose raw logs are absent: one line each, "CSTDE: no cstde/experiment.json ...".
  std::vector<std::string> omitted;
};

std::string html_escape(const std::string& s);
std::string to_html(const Document& d);
std::string to_markdown(const Document& d);

}  // namespace structlm::report
