// LinkParser over link-grammar's C API, and the word clean-up and location rules of link_grammar.h.
#include "text/link_grammar.h"

#include <link-grammar/link-includes.h>

#include <clocale>

#include "core/error.h"
#include "text/sentences.h"

namespace structlm::text {
namespace {

// link-grammar reports through a per-thread handler; by default it prints informational lines
// (locale, dictionary version) on stderr. Keep errors to put them in our own messages; drop the rest.
thread_local std::string lg_errors;
void collect_errors(lg_errinfo* e, void*) {
  if (e->severity <= lg_Error && e->text) lg_errors += e->text;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\n\r\f\v") == std::string::npos;
}

}  // namespace

struct LinkParser::Impl {
  Dictionary dict = nullptr;
  Parse_Options po = nullptr;
  ~Impl() {
    if (po) parse_options_delete(po);
    if (dict) dictionary_delete(dict);
  }
};

LinkParser::LinkParser(const LinkParserOptions& opts) : opts_(opts), impl_(std::make_unique<Impl>()) {
  lg_error_set_handler(collect_errors, nullptr);
  lg_errors.clear();
  // Creating a dictionary sets the process's LC_CTYPE to the dictionary's locale; the rest of the
  // program must not change behaviour because a parser exists, so put the program's back.
  std::string locale = std::setlocale(LC_ALL, nullptr);
  impl_->dict = dictionary_create_lang(opts.dictionary.c_str());
  std::setlocale(LC_ALL, locale.c_str());
  if (!impl_->dict)
    fail("link-grammar dictionary '" + opts.dictionary + "'",
         "cannot be opened (Debian: apt-get install link-grammar liblink-grammar-dev)" +
             (lg_errors.empty() ? std::string() : ": " + lg_errors));
  Parse_Options po = impl_->po = parse_options_create();
  parse_options_set_verbosity(po, 0);
  parse_options_set_max_parse_time(po, opts.max_parse_seconds);
  parse_options_set_min_null_count(po, 0);  // complete linkages first, nulls only if there are none
  parse_options_set_max_null_count(po, opts.max_null_count);
  parse_options_set_spell_guess(po, opts.spell_guess ? 7 : 0);
  parse_options_set_repeatable_rand(po, true);  // linkage sampling (long sentences) is reproducible
}

LinkParser::~LinkParser() = default;

std::string LinkParser::library_version() { return linkgrammar_get_version(); }

LinkedSentence LinkParser::parse(const std::string& sentence) {
  LinkedSentence out;
  out.text = sentence;
  // The library aborts on an empty sentence and silently drops words that are not valid UTF-8.
  if (blank(sentence) || !valid_utf8(sentence)) return out;
  lg_error_set_handler(collect_errors, nullptr);
  parse_options_reset_resources(impl_->po);  // the time limit counts from this sentence's start
  Sentence s = sentence_create(sentence.c_str(), impl_->dict);
  if (!s) return out;
  int found = sentence_parse(s, impl_->po);
  if (found > 0) {
    Linkage l = linkage_create(0, s, impl_->po);
    if (l) {
      const std::size_t n = linkage_get_num_words(l);
      // Walls are the first and last words when the dictionary has them (English has both).
      const std::size_t first = n > 0 && std::string(linkage_get_word(l, 0)) == "LEFT-WALL" ? 1 : 0;
      const std::size_t right_wall = n > 0 && std::string(linkage_get_word(l, n - 1)) == "RIGHT-WALL" ? n - 1 : n;
      std::vector<std::pair<std::size_t, std::size_t>> spans;
      for (std::size_t w = first; w < right_wall; ++w) {
        out.words.push_back({strip_link_grammar_word(linkage_get_word(l, w)), -1, -1});
        spans.emplace_back(linkage_get_word_byte_start(l, w), linkage_get_word_byte_end(l, w));
      }
      locate_words(sentence, out.words, spans);
      for (std::size_t k = 0; k < linkage_get_num_links(l); ++k) {
        std::size_t a = linkage_get_link_lword(l, k), b = linkage_get_link_rword(l, k);
        if (a < first || b < first || a >= right_wall || b >= right_wall) continue;  // a wall
        if (a > b) std::swap(a, b);
        out.links.push_back({int(a - first), int(b - first), linkage_get_link_label(l, k)});
      }
      out.parsed = true;
      out.null_count = sentence_null_count(s);
      linkage_delete(l);
    }
  }
  sentence_delete(s);
  return out;
}

std::string strip_link_grammar_word(const std::string& word) {
  if (word.size() > 2 && word.front() == '[' && word.back() == ']')  // unlinked word: "[the]"
    return strip_link_grammar_word(word.substr(1, word.size() - 2));
  // A guess annotation ("[?]", "[!<NUMBERS>]", "[~]") follows the word; any subscript follows it.
  auto bracket = word.find('[', 1);
  if (bracket != std::string::npos) return word.substr(0, bracket);
  // A subscript: the last '.', not the first character, followed by lowercase letters, digits
  // and the few marks subscripts use ("v-d", "q-d", "ij", "x").
  auto dot = word.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == word.size()) return word;
  for (std::size_t i = dot + 1; i < word.size(); ++i) {
    char c = word[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*' || c == '_')) return word;
  }
  return word.substr(0, dot);
}

void locate_words(const std::string& sentence, std::vector<LinkedWord>& words,
                  const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t from = 0;  // end of the previous located word
  for (std::size_t i = 0; i < words.size(); ++i) {
    LinkedWord& w = words[i];
    w.begin = w.end = -1;
    std::size_t b = std::string::npos, e = 0;
    if (i < spans.size() && spans[i].first < spans[i].second && spans[i].second <= sentence.size() &&
        spans[i].first >= from) {
      b = spans[i].first;
      e = spans[i].second;
    } else if (!w.text.empty()) {
      b = sentence.find(w.text, from);
      e = b + w.text.size();
    }
    if (b == std::string::npos) continue;
    w.begin = static_cast<long long>(b);
    w.end = static_cast<long long>(e);
    w.text = sentence.substr(b, e - b);
    from = e;
  }
}

}  // namespace structlm::text
