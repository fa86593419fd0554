// Three dictionaries of Debian's dict-* packages, read from their dictd databases (dictd.h):
//   foldoc  dict-foldoc  the Free On-line Dictionary of Computing (GPL-2+ package; FOLDOC's own
//                        licence allows redistribution with attribution)
//   jargon  dict-jargon  the Jargon File 4.4.7 (public domain)
//   devil   dict-devil   Ambrose Bierce, The Devil's Dictionary, 1911 (public domain)
// One document per entry (id `Headword@offset`), cleaned by one set of rules that fits all three:
//   - cross references `{object-oriented}` keep their words, without braces (also across lines);
//   - FOLDOC's subject tag at the start of a paragraph or sense (`<programming>`) goes;
//   - a paragraph that is only a citation in brackets (`["ACTORS: A Model ...", Agha, 1986].`,
//     the Jargon File's `[Purdue]`), only a date stamp `(1994-11-08)` or only a URL in
//     parentheses goes;
//   - the Jargon File's pronunciations go: every slash-delimited word of the header (`/klooj/`),
//     and in the body one holding a pronunciation mark ' @ · (`(/ad-hos'@-tee/)`), so paths such
//     as /usr/bin stay;
//   - the header (first paragraph) is always one line: `hacker n.`;
//   - underscores marking emphasis (`_Abracadabra_`, `__for now__`) go, snake_case stays;
//   - a paragraph whose lines share one indentation is joined into one line; one with mixed
//     indentation (verse, code, tables) keeps its line breaks, each line trimmed.
#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "data/corpus_internal.h"
#include "data/dictd.h"

namespace structlm::data::detail {

namespace {

bool only_date_stamp(const std::string& p) {  // (1994-11-08)
  if (p.size() != 12 || p.front() != '(' || p.back() != ')') return false;
  for (std::size_t i = 1; i < 11; ++i)
    if ((i == 5 || i == 8) ? p[i] != '-' : !std::isdigit(static_cast<unsigned char>(p[i]))) return false;
  return true;
}

bool only_bracketed(const std::string& p) {  // [ ... ] or [ ... ]. with the brackets balanced
  std::string t = p;
  if (!t.empty() && t.back() == '.') t.pop_back();
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return false;
  int depth = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    depth += t[i] == '[' ? 1 : t[i] == ']' ? -1 : 0;
    if (depth == 0 && i + 1 < t.size()) return false;  // closed before the end: "[a] text [b]"
  }
  return true;
}

bool only_url(const std::string& p) {
  std::string t = p;
  if (!t.empty() && t.back() == '.') t.pop_back();
  if (t.size() > 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
  return t.find(' ') == std::string::npos &&
         (t.rfind("http://", 0) == 0 || t.rfind("https://", 0) == 0 || t.rfind("ftp://", 0) == 0);
}

// `<programming>` or `<operating system>` at the start (after a sense number "2. " if any).
std::string drop_subject_tag(const std::string& p) {
  std::size_t k = 0;
  while (k < p.size() && std::isdigit(static_cast<unsigned char>(p[k]))) ++k;
  const std::size_t start = (k > 0 && k + 1 < p.size() && p[k] == '.' && p[k + 1] == ' ') ? k + 2 : 0;
  if (start >= p.size() || p[start] != '<') return p;
  const auto close = p.find('>', start);
  if (close == std::string::npos || close - start > 40) return p;
  for (std::size_t i = start + 1; i < close; ++i)
    if (!std::islower(static_cast<unsigned char>(p[i])) && p[i] != ' ' && p[i] != '-') return p;
  std::size_t rest = close + 1;
  while (rest < p.size() && p[rest] == ' ') ++rest;
  return p.substr(0, start) + p.substr(rest);
}

bool word_char(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

// Braces, emphasis underscores and Jargon File pronunciations, anywhere in the entry.
std::string strip_inline_markup(const std::string& t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '{' || c == '}') continue;
    if (c == '_') {
      const bool before = i > 0 && word_char(static_cast<unsigned char>(t[i - 1]));
      std::size_t j = i;
      while (j < t.size() && t[j] == '_') ++j;
      const bool after = j < t.size() && word_char(static_cast<unsigned char>(t[j]));
      if (before != after) {  // at a word's edge: emphasis
        i = j - 1;
        continue;
      }
    }
    if (c == '/' && (i == 0 || !word_char(static_cast<unsigned char>(t[i - 1])))) {
      const auto close = t.find('/', i + 1);
      if (close != std::string::npos && close - i <= 48) {
        const std::string inner = t.substr(i + 1, close - i - 1);
        const bool spaced = inner.find_first_of(" \n\t") != std::string::npos;
        const bool marked = inner.find_first_of("'@") != std::string::npos || inner.find("\xc2\xb7") != std::string::npos;
        if (!inner.empty() && !spaced && marked) {
          i = close;
          if (!out.empty() && out.back() == '(' && i + 1 < t.size() && t[i + 1] == ')') {  // "(/.../)" leaves nothing
            out.pop_back();
            ++i;
          }
          while (!out.empty() && out.back() == ' ' && i + 1 < t.size() && (t[i + 1] == ',' || t[i + 1] == ' ')) out.pop_back();
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

std::size_t indent_of(const std::string& line) {
  std::size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) n += line[n] == '\t' ? 8 : 1;
  return n;
}

Corpus load_dictionary(const CorpusPaths& paths, const std::string& name, const std::string& package) {
  Corpus c{name, paths.dictd_dir, {}};
  const std::string hint = "install the Debian package " + package + " (scripts/setup.sh --corpus " + name + ")";
  for (auto& e : read_dictd(paths.dictd_dir, name, hint)) {
    std::string text = clean_dictionary_entry(e.raw);
    if (!text.empty()) c.docs.push_back({e.headword + "@" + std::to_string(e.offset), std::move(text)});
  }
  if (c.docs.empty()) fail(paths.dictd_dir + "/" + name + ".index", "holds no entries");
  return c;
}

// The header (the entry's first paragraph: headword, and in the Jargon File its pronunciation and
// part of speech) loses every slash-delimited word: there all of them are pronunciations, also
// those without a mark (`/klooj/`).
std::string strip_header_pronunciations(const std::string& raw) {
  const auto header_end = std::min(raw.find("\n\n"), raw.size());
  std::string out;
  for (std::size_t i = 0; i < header_end; ++i) {
    if (raw[i] == '/' && (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\n')) {
      const auto close = raw.find('/', i + 1);
      if (close != std::string::npos && close < header_end &&
          raw.substr(i + 1, close - i - 1).find_first_of(" \n") == std::string::npos) {
        i = close;
        continue;
      }
    }
    out += raw[i];
  }
  return out + raw.substr(header_end);
}

}  // namespace

std::string clean_dictionary_entry(const std::string& raw) {
  std::string out;
  bool header = true;
  for (const auto& paragraph : split_paragraphs(strip_inline_markup(strip_header_pronunciations(raw)))) {
    std::vector<std::string> lines;
    bool mixed = false;
    std::size_t first_indent = std::string::npos;
    std::size_t start = 0;
    while (start <= paragraph.size()) {
      auto end = paragraph.find('\n', start);
      if (end == std::string::npos) end = paragraph.size();
      const std::string line = paragraph.substr(start, end - start);
      start = end + 1;
      const std::string t = trim(line);
      if (t.empty()) continue;
      const std::size_t ind = indent_of(line);
      if (first_indent == std::string::npos) first_indent = ind;
      else mixed = mixed || ind != first_indent;
      lines.push_back(t);
    }
    if (lines.empty()) continue;
    if (header) mixed = false;  // "hacker\n n." is one line: "hacker n."
    header = false;
    std::string para;
    for (const auto& l : lines) {
      const bool glued = l[0] == ',' || l[0] == ';' || l[0] == '.';
      para += (para.empty() || glued ? "" : mixed ? "\n" : " ") + l;
    }
    if (only_date_stamp(para) || only_bracketed(para) || only_url(para)) continue;
    para = drop_subject_tag(para);
    if (!para.empty()) out += (out.empty() ? "" : "\n\n") + para;
  }
  return out;
}

Corpus load_foldoc(const CorpusPaths& paths) { return load_dictionary(paths, "foldoc", "dict-foldoc"); }
Corpus load_jargon(const CorpusPaths& paths) { return load_dictionary(paths, "jargon", "dict-jargon"); }
Corpus load_devil(const CorpusPaths& paths) { return load_dictionary(paths, "devil", "dict-devil"); }

}  // namespace structlm::data::detail
