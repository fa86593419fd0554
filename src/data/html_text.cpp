#include "data/html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>

#include "core/error.h"

namespace structlm::data::detail {

namespace {

bool is_one_of(const char* name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (std::strcmp(name, n) == 0) return true;
  return false;
}

std::string attribute(xmlNode* n, const char* attr) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(attr));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

// An entry "#name" matches the element whose id is `name`; any other entry, a class it holds.
bool has_class(xmlNode* n, const std::vector<std::string>& classes) {
  if (classes.empty()) return false;
  const std::string cls = " " + attribute(n, "class") + " ";
  for (const auto& c : classes) {
    if (!c.empty() && c[0] == '#') {
      if (attribute(n, "id") == c.substr(1)) return true;
    } else if (cls.find(" " + c + " ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

xmlNode* find_main(xmlNode* n) {
  for (; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (attribute(n, "role") == "main") return n;
    if (xmlNode* m = find_main(n->children)) return m;
  }
  return nullptr;
}

xmlNode* find_class(xmlNode* n, const std::vector<std::string>& cls) {
  for (; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (has_class(n, cls)) return n;
    if (xmlNode* m = find_class(n->children, cls)) return m;
  }
  return nullptr;
}

xmlNode* find_element(xmlNode* n, const char* name) {
  for (; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0) return n;
    if (xmlNode* m = find_element(n->children, name)) return m;
  }
  return nullptr;
}

class Extractor {
 public:
  explicit Extractor(const HtmlTextRules& r) : rules_(r) {}

  void walk(xmlNode* n) {
    for (; n; n = n->next) {
      if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content) add_text(reinterpret_cast<const char*>(n->content));
        continue;
      }
      if (n->type != XML_ELEMENT_NODE) continue;
      const char* name = reinterpret_cast<const char*>(n->name);
      if (is_one_of(name, {"script", "style", "nav", "form", "header", "footer", "noscript", "svg", "img", "button",
                           "input", "select", "textarea", "iframe"}) ||
          has_class(n, rules_.drop_classes))
        continue;
      if (std::strcmp(name, "pre") == 0) {
        if (!rules_.keep_code_blocks) continue;
        flush();
        pre_ = true;
        walk(n->children);
        flush();
        pre_ = false;
        continue;
      }
      // A field's type after its name (Sphinx's span.classifier: `right : DataFrame`), the colon
      // that basic.css adds before it (::before) written out, lest the two words run together.
      if (std::strcmp(name, "span") == 0 && has_class(n, {"classifier"})) {
        add_text(" : ");
        walk(n->children);
        continue;
      }
      if (std::strcmp(name, "br") == 0) {
        add_text(" ");
        continue;
      }
      if (is_one_of(name, {"td", "th"})) {  // cells of a row are one paragraph, words apart
        add_text(" ");
        walk(n->children);
        add_text(" ");
        continue;
      }
      const bool block = is_one_of(name, {"p", "div", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                                          "blockquote", "table", "section", "ul", "ol", "dl", "article", "figure",
                                          "figcaption", "caption", "aside", "main", "hr", "body"});
      if (block) flush();
      walk(n->children);
      if (block) flush();
    }
  }

  std::string text() {
    flush();
    return out_;
  }

 private:
  void add_text(const char* s) { current_ += s; }

  // The paragraph gathered so far: whitespace runs made one space (a kept <pre> keeps its lines).
  void flush() {
    std::string para;
    if (pre_) {
      para = current_;
      while (!para.empty() && (para.back() == '\n' || para.back() == ' ')) para.pop_back();
      while (!para.empty() && para.front() == '\n') para.erase(para.begin());
    } else {
      bool space = false;
      for (char c : current_) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
          space = !para.empty();
          continue;
        }
        if (space) para += ' ';
        space = false;
        para += c;
      }
    }
    current_.clear();
    if (!para.empty()) out_ += (out_.empty() ? "" : "\n\n") + para;
  }

  const HtmlTextRules& rules_;
  std::string current_, out_;
  bool pre_ = false;
};

}  // namespace

std::string html_to_text(const std::string& html, const std::string& name, const HtmlTextRules& rules) {
  // A page cut short still parses (the parser recovers), so truncation is checked on the bytes.
  const auto end = html.rfind("</html>");
  if (end == std::string::npos || html.find_first_not_of(" \t\r\n", end + 7) != std::string::npos)
    fail(name, "HTML page cut short: it does not end with </html> (truncated?)");
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      htmlReadMemory(html.data(), int(html.size()), name.c_str(), "UTF-8",
                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET),
      xmlFreeDoc);
  if (!doc) fail(name, "not parseable as HTML");
  xmlNode* root = xmlDocGetRootElement(doc.get());
  xmlNode* main = nullptr;
  if (!rules.main_class.empty()) {
    main = find_class(root, {rules.main_class});
    if (!main)
      fail(name, "HTML page without its main content (no element " +
                     (rules.main_class[0] == '#' ? "with id \"" + rules.main_class.substr(1) : "of class \"" + rules.main_class) +
                     "\")");
  } else {
    main = find_main(root);
    if (!main) main = find_element(root, "main");  // mdBook's pages: <main>, no role
    if (!main) main = find_element(root, "body");
  }
  if (!main) fail(name, "HTML page without a body");
  Extractor x(rules);
  x.walk(main->children);
  return x.text();
}

}  // namespace structlm::data::detail
