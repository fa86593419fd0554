#include "data/dictd.h"

#include <zlib.h>

#include <map>

#include "core/error.h"
#include "core/io.h"
#include "data/text_check.h"

namespace structlm::data::detail {

namespace {

std::string read_gzip(const std::string& path, const std::string& install_hint) {
  gzFile f = gzopen(path.c_str(), "rb");  // a dictzip file is gzip; a plain file reads as is
  if (!f) fail(path, "cannot open for reading; " + install_hint);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
  int err = 0;
  const std::string msg = gzerror(f, &err);  // copied: the message belongs to f, freed by gzclose
  gzclose(f);
  if (n < 0 || err < 0) fail(path, std::string("corrupt or truncated compressed data (") + msg + ")");
  return out;
}

struct Span {
  std::size_t offset = 0, length = 0;
  std::string headword;
};

}  // namespace

std::uint64_t dictd_number(const std::string& s, const std::string& where) {
  static const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (s.empty() || s.size() > 10) fail(where, "bad dictd number '" + s + "'");
  std::uint64_t v = 0;
  for (char c : s) {
    const auto d = digits.find(c);
    if (d == std::string::npos) fail(where, "bad dictd number '" + s + "'");
    v = v * 64 + d;
  }
  return v;
}

std::vector<DictdEntry> read_dictd(const std::string& dir, const std::string& name, const std::string& install_hint,
                                   bool repair_cp1252_bytes) {
  const std::string index_path = dir + "/" + name + ".index", dict_path = dir + "/" + name + ".dict.dz";
  if (!file_exists(index_path)) fail(index_path, "missing: " + name + " is not installed; " + install_hint);
  std::map<std::size_t, Span> spans;  // by offset: file order, each entry once
  std::size_t lineno = 0;
  for (const auto& line : read_lines(index_path)) {
    ++lineno;
    if (line.empty()) continue;
    const std::string where = index_path + ":" + std::to_string(lineno);
    const auto t1 = line.find('\t'), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string::npos) fail(where, "expected 'headword<TAB>offset<TAB>length'");
    Span s{dictd_number(line.substr(t1 + 1, t2 - t1 - 1), where), dictd_number(line.substr(t2 + 1), where),
           line.substr(0, t1)};
    if (s.headword.rfind("00-", 0) == 0 || s.headword.rfind("00database", 0) == 0) continue;  // the database's own
    spans.emplace(s.offset, s);  // the first headword of an entry names it
  }
  std::string dict = read_gzip(dict_path, install_hint);
  if (repair_cp1252_bytes) dict = repair_cp1252(dict);
  check_is_text(dict, dict_path);
  std::vector<DictdEntry> out;
  out.reserve(spans.size());
  for (const auto& [offset, s] : spans) {
    if (offset + s.length > dict.size())
      fail(index_path, "entry '" + s.headword + "' ends at byte " + std::to_string(offset + s.length) + ", past the " +
                           std::to_string(dict.size()) + " bytes of " + dict_path + " (truncated?)");
    out.push_back({s.headword, offset, dict.substr(offset, s.length)});
  }
  return out;
}

}  // namespace structlm::data::detail
