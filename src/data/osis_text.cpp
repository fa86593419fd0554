#include "data/osis_text.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "data/corpus_internal.h"

namespace structlm::data::detail {

namespace {

enum Break { kNone = 0, kSpace = 1, kLine = 2, kParagraph = 3 };

bool is_one_of(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

Break break_of(const std::string& tag) {
  if (is_one_of(tag, {"title", "div", "p", "lg", "list", "table", "chapter"})) return kParagraph;
  if (is_one_of(tag, {"l", "lb", "item", "row"})) return kLine;
  if (tag == "cell") return kSpace;
  return kNone;
}

// Punctuation that closes on the word before it: a dropped note before one leaves no space.
bool closes(const std::string& s, std::size_t i) {
  if (std::strchr(".,;:!?)]}", s[i])) return true;
  for (const char* p : {"\xe2\x80\x9d", "\xe2\x80\x99", "\xe2\x80\xa6"})  // ” ’ …
    if (s.compare(i, 3, p) == 0) return true;
  return false;
}

// `&amp;` and the like at s[i]; the decoded text, and `len` set to the entity's length. An
// unknown or malformed entity is left as it is (len 1: the `&` alone).
std::string entity(const std::string& s, std::size_t i, std::size_t& len) {
  len = 1;
  const std::size_t semi = s.find(';', i);
  if (semi == std::string::npos || semi - i > 10) return "&";
  const std::string name = s.substr(i + 1, semi - i - 1);
  std::string out;
  if (name == "amp") out = "&";
  else if (name == "lt") out = "<";
  else if (name == "gt") out = ">";
  else if (name == "quot") out = "\"";
  else if (name == "apos") out = "'";
  else if (name.size() > 1 && name[0] == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    char* end = nullptr;
    const unsigned long cp = std::strtoul(name.c_str() + (hex ? 2 : 1), &end, hex ? 16 : 10);
    if (*end != '\0' || cp == 0 || cp > 0x10FFFF) return "&";
    append_utf8(out, cp);
  } else {
    return "&";
  }
  len = semi - i + 1;
  return out;
}

class Writer {
 public:
  explicit Writer(bool paragraphs) : paragraphs_(paragraphs) {}

  void brk(Break b) {
    if (!paragraphs_ && b > kSpace) b = kSpace;
    if (b > pending_) pending_ = b;
  }
  void gap() { gap_ = true; }

  // Text between two tags: its first visible byte decides what a pending break or gap becomes.
  void text(const std::string& s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        brk(kSpace);
        continue;
      }
      if (!out_.empty()) {
        if (pending_ == kParagraph) out_ += "\n\n";
        else if (pending_ == kLine) out_ += '\n';
        else if (pending_ == kSpace || (gap_ && !closes(s, i))) out_ += ' ';
      }
      pending_ = kNone;
      gap_ = false;
      out_ += c;
    }
  }

  std::string take() { return std::move(out_); }

 private:
  bool paragraphs_;
  Break pending_ = kNone;
  bool gap_ = false;
  std::string out_;
};

}  // namespace

std::string osis_to_text(const std::string& m, bool paragraphs, const std::string& where) {
  Writer w(paragraphs);
  std::string run;  // text since the last tag, fed at once so that a gap sees the next character
  std::size_t i = 0;
  while (i < m.size()) {
    if (m[i] == '&') {
      std::size_t len = 0;
      run += entity(m, i, len);
      i += len;
      continue;
    }
    if (m[i] != '<') {
      run += m[i++];
      continue;
    }
    w.text(run);
    run.clear();
    const std::size_t close = m.find('>', i);
    if (close == std::string::npos) fail(where, "OSIS markup cut short: a tag is not closed: " + m.substr(i, 60));
    const bool end_tag = m[i + 1] == '/';
    std::size_t b = i + (end_tag ? 2 : 1), e = b;
    while (e < close && m[e] != ' ' && m[e] != '/' && m[e] != '\t' && m[e] != '\n') ++e;
    const std::string name = m.substr(b, e - b);
    const bool empty_element = m[close - 1] == '/';
    i = close + 1;
    if (!end_tag && (name == "note" || name == "speaker")) {
      // Dropped with all it holds (a note may hold markup, though not another note).
      if (!empty_element) {
        const std::size_t end = m.find("</" + name + ">", i);
        if (end == std::string::npos) fail(where, "OSIS markup cut short: <" + name + "> is not closed");
        i = end + name.size() + 3;
      }
      w.gap();
      continue;
    }
    w.brk(break_of(name));
  }
  w.text(run);
  return w.take();
}

}  // namespace structlm::data::detail
