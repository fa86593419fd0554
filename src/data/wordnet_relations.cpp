// WordNet 3.0 data files, as wndb(5WN) describes them. After the license header (lines starting
// with two spaces) each line is one synset:
//   offset lex_filenum ss_type w_cnt [word lex_id]... p_cnt [ptr_symbol offset pos source/target]...
//   [f_cnt [+ f_num w_num]...]  | gloss
// offset: 8 decimal digits, the synset's key within its file; lex_filenum: 2 decimal digits;
// ss_type: n v a s r; w_cnt: 2 hex digits; lex_id: 1 hex digit; p_cnt: 3 decimal digits;
// source/target: 4 hex digits; the verb frames (verbs only): f_cnt 2 decimal digits, f_num
// 2 decimal, w_num 2 hex. Every field is checked, so a truncated or corrupted file is an error
// naming its line rather than a silently smaller relation table.
#include "data/wordnet_relations.h"

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/io.h"

namespace fs = std::filesystem;

namespace structlm::data {

namespace {

const char* const kPos[] = {"noun", "verb", "adj", "adv"};  // file index -> data.<name>

// The file a pointer's pos letter (or a synset's ss_type) lives in; -1 for anything else.
int file_of(char pos) {
  switch (pos) {
    case 'n': return 0;
    case 'v': return 1;
    case 'a': case 's': return 2;  // satellites are adjectives, in data.adj
    case 'r': return 3;
    default: return -1;
  }
}

struct Hypernym {
  int file;
  std::uint32_t offset;
};

struct Synset {
  std::vector<std::string> lemmas;
  std::vector<Hypernym> hypernyms;
  std::size_t line;
};

// The space-separated fields of one synset line (before its gloss), read in order; every read
// says what it expected, so an error names the field.
class Fields {
 public:
  Fields(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  std::string_view next(const char* what) {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    if (pos_ == s_.size()) fail(where_, std::string("ends before the ") + what);
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ') ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // A field of exactly `digits` digits in `base` (10 or 16).
  std::uint32_t number(const char* what, std::size_t digits, int base) {
    const std::string_view f = next(what);
    std::uint32_t v = 0;
    bool ok = f.size() == digits;
    for (char c : f) {
      const int d = std::isdigit((unsigned char)c) ? c - '0'
                    : base == 16 && std::isxdigit((unsigned char)c) ? std::tolower((unsigned char)c) - 'a' + 10
                                                                  : -1;
      if (d < 0) ok = false;
      v = v * std::uint32_t(base) + std::uint32_t(d < 0 ? 0 : d);
    }
    if (!ok)
      fail(where_, std::string(what) + " '" + std::string(f) + "' is not " + std::to_string(digits) +
                       (base == 16 ? " hex digits" : " decimal digits"));
    return v;
  }

  bool done() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

// Lower case, without the syntactic marker WordNet appends to some adjectives: "galore(ip)"
// (immediately postnominal), "(a)" (attributive), "(p)" (predicative).
std::string lemma_of(std::string_view word, bool adjective) {
  if (adjective)
    for (std::string_view marker : {"(a)", "(p)", "(ip)"})
      if (word.size() >= marker.size() && word.substr(word.size() - marker.size()) == marker) {
        word.remove_suffix(marker.size());
        break;
      }
  std::string s(word);
  for (char& c : s) c = char(std::tolower((unsigned char)c));
  return s;
}

// Offsets as the files write them: 8 digits, zero-filled.
std::string offset_string(std::uint32_t offset) {
  std::string s = std::to_string(offset);
  return std::string(s.size() < 8 ? 8 - s.size() : 0, '0') + s;
}

// One data.<pos> file: its synsets, and offset -> index into them.
struct PosFile {
  std::string path;
  std::vector<Synset> synsets;
  std::unordered_map<std::uint32_t, std::size_t> by_offset;
};

void read_pos_file(int file, PosFile& pf) {
  if (!file_exists(pf.path))
    fail(pf.path, "not found: WordNet comes from Debian (apt-get install wordnet-base, or scripts/setup.sh)");
  const bool verb = file == 1, adjective = file == 2;
  std::size_t lineno = 0;
  for (const auto& line : read_lines(pf.path)) {
    ++lineno;
    if (line.empty() || line.rfind("  ", 0) == 0) continue;  // license header
    const std::string where = pf.path + ":" + std::to_string(lineno);
    // Words and pointers never contain '|': the first one starts the gloss.
    Fields f(std::string_view(line).substr(0, line.find('|')), where);

    const std::uint32_t offset = f.number("synset offset", 8, 10);
    f.number("lex_filenum", 2, 10);
    const std::string_view ss_type = f.next("ss_type");
    if (ss_type.size() != 1 || file_of(ss_type[0]) != file)
      fail(where, "ss_type '" + std::string(ss_type) + "' does not belong in data." + kPos[file]);

    Synset s{{}, {}, lineno};
    const std::uint32_t w_cnt = f.number("word count", 2, 16);
    if (w_cnt == 0) fail(where, "synset has no words");
    for (std::uint32_t i = 0; i < w_cnt; ++i) {
      s.lemmas.push_back(lemma_of(f.next("word"), adjective));
      if (s.lemmas.back().empty()) fail(where, "empty word");
      f.number("lex_id", 1, 16);
    }

    const std::uint32_t p_cnt = f.number("pointer count", 3, 10);
    for (std::uint32_t i = 0; i < p_cnt; ++i) {
      const std::string_view symbol = f.next("pointer symbol");
      const std::uint32_t target = f.number("pointer offset", 8, 10);
      const std::string_view pos = f.next("pointer pos");
      if (pos.size() != 1 || file_of(pos[0]) < 0) fail(where, "pointer pos '" + std::string(pos) + "' is not one of n v a s r");
      f.number("pointer source/target", 4, 16);
      if (symbol == "@" || symbol == "@i") s.hypernyms.push_back({file_of(pos[0]), target});
    }

    if (verb) {
      const std::uint32_t f_cnt = f.number("frame count", 2, 10);
      for (std::uint32_t i = 0; i < f_cnt; ++i) {
        if (f.next("frame marker '+'") != "+") fail(where, "verb frame does not start with '+'");
        f.number("frame number", 2, 10);
        f.number("frame word number", 2, 16);
      }
    }
    if (!f.done()) fail(where, "unexpected fields before the gloss (counts and fields disagree)");

    auto [it, fresh] = pf.by_offset.emplace(offset, pf.synsets.size());
    if (!fresh)
      fail(where, "synset offset " + offset_string(offset) + " already appears on line " +
                      std::to_string(pf.synsets[it->second].line));
    pf.synsets.push_back(std::move(s));
  }
}

}  // namespace

WordRelations load_wordnet_relations(const std::string& wordnet_dir) {
  PosFile files[4];
  std::size_t total = 0;
  for (int i = 0; i < 4; ++i) {
    files[i].path = (fs::path(wordnet_dir) / (std::string("data.") + kPos[i])).string();
    read_pos_file(i, files[i]);
    total += files[i].synsets.size();
  }
  if (total == 0) fail(wordnet_dir, "data.{noun,verb,adj,adv} hold no synsets");

  WordRelations out;
  for (const PosFile& pf : files)
    for (const Synset& s : pf.synsets) {
      // Hypernym targets resolved once per synset, in the file their pos names.
      std::vector<const Synset*> hypernyms;
      for (const Hypernym& h : s.hypernyms) {
        const PosFile& target = files[h.file];
        auto it = target.by_offset.find(h.offset);
        if (it == target.by_offset.end())
          fail(pf.path + ":" + std::to_string(s.line),
               "hypernym pointer to offset " + offset_string(h.offset) + ": no such synset in " + target.path);
        hypernyms.push_back(&target.synsets[it->second]);
      }
      for (const std::string& lemma : s.lemmas) {
        std::set<std::string>& rel = out[lemma];
        rel.insert(s.lemmas.begin(), s.lemmas.end());
        for (const Synset* h : hypernyms) rel.insert(h->lemmas.begin(), h->lemmas.end());
        rel.erase(lemma);  // also drops a case variant that lower-cased to the same lemma
      }
    }
  return out;
}

}  // namespace structlm::data
