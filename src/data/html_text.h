// Text of an HTML page for a corpus, through libxml2's HTML parser (real HTML: entities, implied
// tags, bad nesting): the main content's text, paragraph by paragraph. Private to src/data.
#pragma once
#include <string>
#include <vector>

namespace structlm::data::detail {

struct HtmlTextRules {
  // Elements holding one of these classes are dropped with all they contain (navigation,
  // permalink marks, ...); an entry "#name" names an element by its id instead (asciidoc's
  // div#footer). script, style, nav, form, header, footer, noscript, svg and img always go.
  std::vector<std::string> drop_classes;
  bool keep_code_blocks = false;  // <pre> (code examples, doctests, console sessions)
  // For themes that mark no element role="main" (Django's): the main content is the first
  // element holding this class, and a page without one is an error (a theme change would
  // otherwise let navigation and sidebars through unnoticed). "#name": the element with that id
  // (LibreOffice's div#DisplayArea). Empty: the rule below.
  std::string main_class;
};

// The text under the page's main element (the first with class `rules.main_class` where that is
// set; else the first with role="main", else the first <main>, else <body>): every block element (p, div, li, dt, dd, h1-h6, pre, tr, blockquote, ...) a paragraph
// of its own, inline text joined (the cells of a row, td and th, a space apart; a Sphinx field's
// type, span.classifier, after " : ", the colon its stylesheet draws) and each run of
// whitespace one space; paragraphs separated by a blank line (a <pre> kept keeps its lines). A
// page with neither a main element nor a body, or cut short (no closing </html>), is an error
// naming `name`.
std::string html_to_text(const std::string& html, const std::string& name, const HtmlTextRules& rules = {});

}  // namespace structlm::data::detail
