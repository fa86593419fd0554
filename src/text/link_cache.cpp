// Sentence selection and the link-grammar parse cache of link_cache.h.
#include "text/link_cache.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "text/sentences.h"

namespace structlm::text {
namespace {

json to_json(const LinkedSentence& s) {
  json words = json::array(), spans = json::array(), links = json::array();
  for (const auto& w : s.words) {
    words.push_back(w.text);
    spans.push_back(w.located() ? json::array({w.begin, w.end}) : json(nullptr));
  }
  for (const auto& l : s.links) links.push_back(json::array({l.left, l.right, l.label}));
  return {{"text", s.text}, {"parsed", s.parsed}, {"null_count", s.null_count},
          {"words", words},  {"spans", spans},    {"links", links}};
}

// `where` is "PATH:LINE".
const json& field(const json& j, const char* key, bool (json::*is)() const noexcept, const char* what,
                  const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(where + ": field '" + key + "' is missing");
  if (!((*it).*is)()) throw Error(where + ": field '" + key + "' must be " + what + ", not " + it->type_name());
  return *it;
}

LinkedSentence from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected a JSON object, not " + std::string(j.type_name()));
  LinkedSentence s;
  s.text = field(j, "text", &json::is_string, "a string", where).get<std::string>();
  s.parsed = field(j, "parsed", &json::is_boolean, "true or false", where).get<bool>();
  s.null_count = field(j, "null_count", &json::is_number_integer, "an integer", where).get<int>();
  const json& words = field(j, "words", &json::is_array, "an array", where);
  const json& spans = field(j, "spans", &json::is_array, "an array", where);
  const json& links = field(j, "links", &json::is_array, "an array", where);
  if (spans.size() != words.size())
    throw Error(where + ": 'spans' has " + std::to_string(spans.size()) + " entries for " +
                std::to_string(words.size()) + " words");
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!words[i].is_string()) throw Error(where + ": words[" + std::to_string(i) + "] must be a string");
    LinkedWord w{words[i].get<std::string>(), -1, -1};
    const json& sp = spans[i];
    if (!sp.is_null()) {
      if (!sp.is_array() || sp.size() != 2 || !sp[0].is_number_integer() || !sp[1].is_number_integer() ||
          sp[0].get<long long>() < 0 || sp[0].get<long long>() >= sp[1].get<long long>() ||
          sp[1].get<long long>() > static_cast<long long>(s.text.size()))
        throw Error(where + ": spans[" + std::to_string(i) + "] must be null or [begin, end] inside the text");
      w.begin = sp[0].get<long long>();
      w.end = sp[1].get<long long>();
    }
    s.words.push_back(std::move(w));
  }
  const long long n = static_cast<long long>(s.words.size());
  for (std::size_t k = 0; k < links.size(); ++k) {
    const json& l = links[k];
    if (!l.is_array() || l.size() != 3 || !l[0].is_number_integer() || !l[1].is_number_integer() ||
        !l[2].is_string() || l[0].get<long long>() < 0 || l[0].get<long long>() >= l[1].get<long long>() ||
        l[1].get<long long>() >= n)
      throw Error(where + ": links[" + std::to_string(k) + "] must be [left, right, label] with 0 <= left < right < " +
                  std::to_string(n));
    s.links.push_back({l[0].get<int>(), l[1].get<int>(), l[2].get<std::string>()});
  }
  return s;
}

}  // namespace

std::vector<std::string> select_sentences(const std::vector<std::string>& documents, const SentenceSelection& sel) {
  std::vector<std::string> candidates;
  for (const auto& doc : documents)
    for (auto& s : split_sentences(doc)) {
      std::size_t n = words(s).size();
      if (n >= sel.min_words && n <= sel.max_words && valid_utf8(s)) candidates.push_back(std::move(s));
    }
  if (candidates.size() <= sel.max_sentences) return candidates;
  std::vector<std::string> out;
  out.reserve(sel.max_sentences);
  for (std::size_t k = 0; k < sel.max_sentences; ++k)
    out.push_back(std::move(candidates[k * candidates.size() / sel.max_sentences]));
  return out;
}

std::string link_cache_path(const std::string& dir, const std::vector<std::string>& sentences,
                            const LinkParserOptions& opts) {
  std::ostringstream key;
  key << LinkParser::library_version() << '\n'
      << opts.dictionary << '\n' << opts.max_parse_seconds << ' ' << opts.max_null_count << ' ' << opts.spell_guess;
  for (const auto& s : sentences) key << '\n' << s.size() << ':' << s;
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across machines and builds
  for (unsigned char c : key.str()) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return dir + "/linkgrammar-" + std::string(buf, 12) + ".jsonl";
}

void write_link_cache(const std::string& path, const std::vector<LinkedSentence>& sentences) {
  write_file_atomic(path, [&](std::ostream& out) {
    for (const auto& s : sentences) out << to_json(s).dump() << '\n';
  });
}

std::vector<LinkedSentence> read_link_cache(const std::string& path) {
  std::vector<LinkedSentence> out;
  std::size_t lineno = 0;
  for (const auto& line : read_lines(path)) {
    ++lineno;
    std::string where = path + ":" + std::to_string(lineno);
    if (line.empty()) throw Error(where + ": empty line (expected one parsed sentence per line)");
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw Error(where + ": invalid JSON at byte " + std::to_string(e.byte) + " of the line");
    } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
      throw Error(where + ": invalid JSON (" + e.what() + ")");
    }
    out.push_back(from_json(j, where));
  }
  return out;
}

std::vector<LinkedSentence> parse_sentences(const std::vector<std::string>& sentences, const std::string& cache_dir,
                                            const LinkParserOptions& opts, bool verbose) {
  for (std::size_t i = 0; i < sentences.size(); ++i)
    if (!valid_utf8(sentences[i]))
      throw Error("link-grammar: sentence " + std::to_string(i) + " is not valid UTF-8");
  const std::string path = link_cache_path(cache_dir, sentences, opts);
  if (file_exists(path)) {
    auto cached = read_link_cache(path);
    if (cached.size() != sentences.size())
      fail(path, "holds " + std::to_string(cached.size()) + " sentences, expected " + std::to_string(sentences.size()));
    for (std::size_t i = 0; i < cached.size(); ++i)
      if (cached[i].text != sentences[i])
        fail(path + ":" + std::to_string(i + 1), "field 'text' is not the sentence it should cache");
    return cached;
  }
  LinkParser parser(opts);
  std::vector<LinkedSentence> out;
  out.reserve(sentences.size());
  Progress progress("link-grammar", static_cast<std::int64_t>(sentences.size()));
  std::size_t parsed = 0;
  for (const auto& s : sentences) {
    out.push_back(parser.parse(s));
    parsed += out.back().parsed;
    if (verbose) progress.update(static_cast<std::int64_t>(out.size()));
  }
  if (verbose) progress.finish(std::to_string(parsed) + " parsed");
  make_dirs(cache_dir);
  write_link_cache(path, out);
  return out;
}

}  // namespace structlm::text
