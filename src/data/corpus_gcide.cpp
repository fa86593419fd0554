// GCIDE, the Collaborative International Dictionary of English (Debian dict-gcide, GPL): Webster's
// 1913 with literary quotations, as the dictd database DICTD/gcide.index + DICTD/gcide.dict.dz.
// One document per dictionary entry (the index's distinct offset/length pairs, in file order; id
// `Headword@offset`), cleaned of the dictd markup:
//   - every pronunciation `\A*byss"al\` (the headword's and those of run-in forms in the body)
//     and a respelling `([.a]*b[a^]n"d[u^]n)` right after it are dropped;
//   - a line that is only a bracketed tag is dropped: the source citations (`[1913 Webster]`,
//     `[WordNet 1.5]`, `[PJC]`), and with them the rare usage label alone on a line (`[Obs.]`);
//   - cross references `{Abysmal}` keep their words, without braces;
//   - wrapped lines are joined: one line per paragraph (blank lines separate paragraphs);
//   - accent codes on a letter (`[=a]`, `[e^]`, `['e]`, `[ae]`) become Unicode letters;
//   - the three stray Windows-1252 bytes of the data are read as such (text_check.h).
// The database's own entries (00-database-*, 00-gcide-*: licence text, URL) are not documents.
#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/dictd.h"
#include "data/text_check.h"

namespace structlm::data::detail {

namespace {

const char* const kInstallHint = "install the Debian package dict-gcide (scripts/setup.sh --corpus gcide)";

// Cross-reference braces go; so does every pronunciation `\Ab`an*nition\` or a multiword
// `\air bed\` (up to 64 bytes between two backslashes): run-in forms carry them in the body too.
std::string strip_pronunciations(const std::string& t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{' || t[i] == '}') continue;
    if (t[i] == '\\') {
      const auto close = t.find('\\', i + 1);
      if (close != std::string::npos && close - i <= 64) {
        i = close;
        // A respelling in parentheses right after it goes too: `([.a]*b[a^]n"d[u^]n)`.
        std::size_t k = i + 1;
        while (k < t.size() && t[k] == ' ') ++k;
        const auto paren = k < t.size() && t[k] == '(' ? t.find(')', k) : std::string::npos;
        if (paren != std::string::npos && t.substr(k, paren - k).find_first_of("*\"[`") != std::string::npos) i = paren;
        while (!out.empty() && out.back() == ' ' && i + 1 < t.size() && (t[i + 1] == ',' || t[i + 1] == ' ')) out.pop_back();
        continue;
      }
    }
    out += t[i];
  }
  return out;
}

// GCIDE's accent codes on one ASCII letter, as the letter and a Unicode combining mark:
// [=a] macron, [a^] breve, [^a] circumflex, [.a] dot above, ['a] acute, [`a] grave, [~a] tilde,
// [,c] cedilla; the ligatures [ae] [AE] [oe] [OE] and [eth] as their letters. Other bracketed
// codes ([R.] for "rare", [aum], ...) stay as they are.
std::string decode_accents(const std::string& t) {
  static const std::map<std::string, std::string> whole = {
      {"[ae]", "\xc3\xa6"}, {"[AE]", "\xc3\x86"}, {"[oe]", "\xc5\x93"}, {"[OE]", "\xc5\x92"}, {"[eth]", "\xc3\xb0"}};
  static const std::map<char, std::string> before = {  // [Ma]: the mark before the letter
      {'=', "\xcc\x84"}, {'^', "\xcc\x82"}, {'.', "\xcc\x87"}, {'\'', "\xcc\x81"},
      {'`', "\xcc\x80"}, {'~', "\xcc\x83"}, {',', "\xcc\xa7"}};
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '[') {
      const auto close = t.find(']', i);
      if (close != std::string::npos && close - i <= 4) {
        const std::string code = t.substr(i, close - i + 1);
        if (whole.count(code)) {
          out += whole.at(code);
          i = close;
          continue;
        }
        if (code.size() == 4 && before.count(code[1]) && letter(code[2])) {
          out += code[2] + before.at(code[1]);
          i = close;
          continue;
        }
        if (code.size() == 4 && letter(code[1]) && code[2] == '^') {  // [a^]: breve
          out += code[1] + std::string("\xcc\x86");
          i = close;
          continue;
        }
      }
    }
    out += t[i];
  }
  return out;
}

}  // namespace

std::string clean_gcide_entry(const std::string& raw) {
  std::string out;
  for (const auto& paragraph : split_paragraphs(raw)) {  // blank lines separate paragraphs
    std::string para;
    std::size_t start = 0;
    while (start <= paragraph.size()) {  // its lines, joined into one
      auto end = paragraph.find('\n', start);
      if (end == std::string::npos) end = paragraph.size();
      const std::string t = trim(paragraph.substr(start, end - start));
      start = end + 1;
      if (t.front() == '[' && t.back() == ']' && t.find(']') == t.size() - 1) continue;  // a tag alone
      const std::string piece = decode_accents(strip_pronunciations(t));
      const bool glued = !piece.empty() && (piece[0] == ',' || piece[0] == ';' || piece[0] == '.');
      para += (para.empty() || glued ? "" : " ") + piece;
    }
    if (!para.empty()) out += (out.empty() ? "" : "\n\n") + para;
  }
  return out;
}

Corpus load_gcide(const CorpusPaths& paths) {
  // UTF-8 apart from three stray Windows-1252 bytes (text_check.h); anything else is refused.
  Corpus c{"gcide", paths.dictd_dir, {}};
  for (auto& e : read_dictd(paths.dictd_dir, "gcide", kInstallHint, /*repair_cp1252=*/true)) {
    std::string text = clean_gcide_entry(e.raw);
    // The database's own entries (licence, URL, version) also sit under plain headwords.
    if (!text.empty() && text.rfind("00-database", 0) != 0 && text.rfind("00database", 0) != 0)
      c.docs.push_back({e.headword + "@" + std::to_string(e.offset), std::move(text)});
  }
  if (c.docs.empty()) fail(paths.dictd_dir + "/gcide.index", "holds no entries");
  return c;
}

}  // namespace structlm::data::detail
