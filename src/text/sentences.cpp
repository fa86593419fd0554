// The sentence and word rules of sentences.h.
#include "text/sentences.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/utf8.h"

namespace structlm::text {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
bool is_terminator(char c) { return c == '.' || c == '!' || c == '?'; }
bool is_closer(char c) { return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}'; }

std::string ascii_lower(std::string_view w) {
  std::string out(w);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// Abbreviations that are followed by a capitalised word inside a sentence; lowercased.
bool known_abbreviation(std::string_view w) {
  static const std::array<std::string_view, 30> kAbbrev = {
      "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "gov", "sen", "rep", "col", "lt",
      "capt", "sgt", "rev", "fr", "mt", "vs", "no", "co", "inc", "ltd", "corp", "messrs", "ft", "jan", "feb", "aug"};
  return std::find(kAbbrev.begin(), kAbbrev.end(), ascii_lower(w)) != kAbbrev.end();
}

// "J", "U.S", "e.g": single letters, each but the last followed by a dot.
bool dotted_initials(std::string_view w) {
  if (w.empty()) return false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    bool letter_slot = i % 2 == 0;
    if (letter_slot ? !is_alpha(w[i]) : w[i] != '.') return false;
  }
  return w.size() % 2 == 1;
}

// Is the '.' at `dot` the end of an abbreviation? Looks at the word it closes.
bool closes_abbreviation(std::string_view text, std::size_t dot) {
  std::size_t start = dot;
  while (start > 0 && !is_space(text[start - 1])) --start;
  std::string_view w = text.substr(start, dot - start);
  while (!w.empty() && (w.front() == '(' || w.front() == '"' || w.front() == '\'')) w.remove_prefix(1);
  return known_abbreviation(w) || dotted_initials(w);
}

void push_trimmed(std::string_view piece, std::vector<std::string>& out) {
  std::size_t b = 0, e = piece.size();
  while (b < e && is_space(piece[b])) ++b;
  while (e > b && is_space(piece[e - 1])) --e;
  if (e > b) out.emplace_back(piece.substr(b, e - b));
}

// Unicode punctuation stripped from word edges, as UTF-8.
constexpr std::array<std::string_view, 7> kUnicodePunct = {"\u201c", "\u201d", "\u2018", "\u2019",
                                                           "\u2013", "\u2014", "\u2026"};

bool strip_front(std::string_view& w) {
  unsigned char c = static_cast<unsigned char>(w.front());
  if (c < 128 && std::ispunct(c)) return w.remove_prefix(1), true;
  for (auto p : kUnicodePunct)
    if (w.substr(0, p.size()) == p) return w.remove_prefix(p.size()), true;
  return false;
}

bool strip_back(std::string_view& w) {
  unsigned char c = static_cast<unsigned char>(w.back());
  if (c < 128 && std::ispunct(c)) return w.remove_suffix(1), true;
  for (auto p : kUnicodePunct)
    if (w.size() >= p.size() && w.substr(w.size() - p.size()) == p) return w.remove_suffix(p.size()), true;
  return false;
}

}  // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::size_t begin = 0, i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {  // a blank line (only whitespace between two newlines) ends the sentence
      std::size_t k = i + 1;
      while (k < text.size() && is_space(text[k]) && text[k] != '\n') ++k;
      if (k < text.size() && text[k] == '\n') {
        push_trimmed(text.substr(begin, i - begin), out);
        begin = i = k + 1;
        continue;
      }
      ++i;
      continue;
    }
    if (!is_terminator(c)) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_terminator(text[end])) ++end;
    const bool single_dot = end - i == 1 && c == '.';
    while (end < text.size() && is_closer(text[end])) ++end;
    std::size_t next = end;
    while (next < text.size() && is_space(text[next])) ++next;
    const bool followed_by_space = next > end;
    const bool ends = followed_by_space && (next == text.size() || !is_lower(text[next])) &&
                      !(single_dot && closes_abbreviation(text, i));
    if (ends) {
      push_trimmed(text.substr(begin, end - begin), out);
      begin = end;
    }
    i = end;
  }
  push_trimmed(text.substr(begin), out);
  return out;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    std::string_view w = text.substr(start, i - start);
    while (!w.empty() && strip_front(w)) {
    }
    while (!w.empty() && strip_back(w)) {
    }
    if (w.empty()) continue;
    out.push_back(ascii_lower(w));
  }
  return out;
}

bool valid_utf8(std::string_view s) { return invalid_utf8_offset(s) == std::string::npos; }

}  // namespace structlm::text
