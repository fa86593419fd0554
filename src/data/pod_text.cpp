#include "data/pod_text.h"

#include <libxml/HTMLparser.h>

#include <cctype>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "data/corpus_internal.h"

namespace structlm::data::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

struct Paragraph {
  std::string text;  // its lines, joined by '\n'
  std::size_t line;  // where it starts, from 1
};

// Paragraphs at blank lines (whitespace-only lines count as blank, as perlpodspec allows).
std::vector<Paragraph> paragraphs(const std::string& pod) {
  std::vector<Paragraph> out;
  Paragraph cur{"", 0};
  std::size_t start = 0, lineno = 0;
  while (start < pod.size()) {
    std::size_t end = pod.find('\n', start);
    if (end == std::string::npos) end = pod.size();
    std::string line = pod.substr(start, end - start);
    start = end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      if (!cur.text.empty()) out.push_back(std::move(cur));
      cur = {"", 0};
      continue;
    }
    if (cur.text.empty()) cur.line = lineno;
    else cur.text += '\n';
    cur.text += line;
  }
  if (!cur.text.empty()) out.push_back(std::move(cur));
  return out;
}

// E<...>: POD's own names, then HTML's (libxml2's table), then numbers (E<0x201E>, E<075> octal,
// E<233>). False if it is none of these.
bool escape(const std::string& e, std::string& out) {
  if (e == "verbar") return out += '|', true;
  if (e == "sol") return out += '/', true;
  if (e == "lchevron") return append_utf8(out, 0xAB), true;
  if (e == "rchevron") return append_utf8(out, 0xBB), true;
  if (e.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(e[0]))) {
    const int base = e.rfind("0x", 0) == 0 || e.rfind("0X", 0) == 0 ? 16 : e[0] == '0' ? 8 : 10;
    char* end = nullptr;
    const unsigned long cp = std::strtoul(e.c_str(), &end, base);
    if (*end != '\0' || cp == 0 || cp > 0x10FFFF) return false;
    append_utf8(out, cp);
    return true;
  }
  const htmlEntityDesc* d = htmlEntityLookup(reinterpret_cast<const xmlChar*>(e.c_str()));
  if (!d) return false;
  if (d->value != 0xAD) append_utf8(out, d->value);  // a soft hyphen is no text
  return true;
}

// L<...>: the text to show for a link.
std::string link_text(const std::string& l) {
  const std::size_t bar = l.find('|');
  if (bar != std::string::npos) return l.substr(0, bar);
  if (l.find("://") != std::string::npos || l.rfind("mailto:", 0) == 0) return l;
  const std::size_t slash = l.find('/');
  if (slash == std::string::npos) return l;
  std::string section = l.substr(slash + 1);
  if (section.size() >= 2 && section.front() == '"' && section.back() == '"') section = section.substr(1, section.size() - 2);
  const std::string page = l.substr(0, slash);
  return "\"" + section + "\"" + (page.empty() ? "" : " in " + page);
}

class Codes {
 public:
  Codes(const std::string& s, const std::string& where) : s_(s), where_(where) {}

  std::string render() {
    std::size_t i = 0;
    bool closed = false;
    return until(i, 0, closed);
  }

 private:
  // The text from s_[i] to the end of a code opened with `n` angle brackets (0: the paragraph).
  std::string until(std::size_t& i, std::size_t n, bool& closed) {
    std::string out;
    while (i < s_.size()) {
      const char c = s_[i];
      if (n == 1 && c == '>') {
        ++i;
        closed = true;
        return out;
      }
      if (n > 1 && is_space(c)) {
        std::size_t j = i;
        while (j < s_.size() && is_space(s_[j])) ++j;
        if (s_.compare(j, n, std::string(n, '>')) == 0) {
          i = j + n;
          closed = true;
          return out;
        }
      }
      if (c >= 'A' && c <= 'Z' && i + 1 < s_.size() && s_[i + 1] == '<') {
        out += code(i);
        continue;
      }
      out += c;
      ++i;
    }
    return out;
  }

  // The formatting code at s_[i], rendered; i moves past it.
  std::string code(std::size_t& i) {
    const char letter = s_[i];
    std::size_t j = i + 1, n = 0;
    while (j < s_.size() && s_[j] == '<') ++n, ++j;
    if (n > 1 && (j >= s_.size() || !is_space(s_[j]))) {
      n = 1;  // `C<<x>`: one bracket, and the text starts with '<'
      j = i + 2;
    }
    if (n > 1)
      while (j < s_.size() && is_space(s_[j])) ++j;
    const std::size_t at = i;
    i = j;
    bool closed = false;
    const std::string inner = until(i, n, closed);
    if (!closed) fail(where_, std::string("formatting code ") + letter + "<...> is not closed: " + s_.substr(at, 40));
    std::string out;
    switch (letter) {
      case 'X':
      case 'Z':
        return "";
      case 'L':
        return link_text(inner);
      case 'E':
        if (!escape(inner, out)) fail(where_, "unknown escape E<" + inner + ">");
        return out;
      default:  // B, I, C, F, S and any code of a later POD: their text
        return inner;
    }
  }

  const std::string& s_;
  const std::string& where_;
};

std::string one_line(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool is_bullet(const std::string& label) {
  if (label == "*" || label == "-" || label == "o") return true;
  std::size_t i = 0;
  while (i < label.size() && std::isdigit(static_cast<unsigned char>(label[i]))) ++i;
  return i > 0 && (i == label.size() || (i + 1 == label.size() && (label[i] == '.' || label[i] == ')')));
}

}  // namespace

std::string pod_to_text(const std::string& pod, const std::string& name) {
  std::string out;
  bool in_pod = false;
  std::string skipping_to;  // inside =begin X: the `=end X` that closes it
  auto add = [&](const std::string& text) {
    if (!text.empty()) out += (out.empty() ? "" : "\n\n") + text;
  };
  for (const Paragraph& p : paragraphs(pod)) {
    const std::string where = name + ":" + std::to_string(p.line);
    const std::string& t = p.text;
    const bool command = t.size() > 1 && t[0] == '=' && std::isalpha(static_cast<unsigned char>(t[1]));
    if (!command) {
      if (!in_pod || !skipping_to.empty() || t[0] == ' ' || t[0] == '\t') continue;  // code, other formats, verbatim
      add(one_line(Codes(t, where).render()));
      continue;
    }
    in_pod = true;
    std::size_t sp = 0;
    while (sp < t.size() && !is_space(t[sp])) ++sp;
    const std::string cmd = t.substr(1, sp - 1);
    const std::string arg = one_line(t.substr(sp));
    if (!skipping_to.empty()) {
      if (cmd == "end" && (skipping_to == " " || arg.substr(0, arg.find(' ')) == skipping_to)) skipping_to.clear();
      continue;
    }
    if (cmd == "cut") {
      in_pod = false;
    } else if (cmd == "begin") {
      skipping_to = arg.substr(0, arg.find(' '));
      if (skipping_to.empty()) skipping_to = " ";  // `=begin` alone: up to any `=end`
    } else if (cmd == "head1" || cmd == "head2" || cmd == "head3" || cmd == "head4") {
      add(one_line(Codes(arg, where).render()));
    } else if (cmd == "item") {
      const std::string label = one_line(Codes(arg, where).render());
      if (!is_bullet(label)) add(label);
    }
    // =pod, =over, =back, =encoding, =for (text for another formatter), and unknown commands: no text.
  }
  return out;
}

}  // namespace structlm::data::detail
