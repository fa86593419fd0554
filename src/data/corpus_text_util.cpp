// Helpers shared by the corpus adapters: packing pieces into documents, paragraphs, trimming.
#include "data/corpus_internal.h"

#include "core/io.h"
#include "data/html_text.h"
#include "data/text_check.h"

namespace structlm::data::detail {

void add_html_pages(Corpus& c, const std::string& root, const std::vector<std::string>& pages,
                    const HtmlTextRules& rules, const std::function<bool(const std::string& html)>& skip) {
  for (const auto& page : pages) {
    const std::string path = root + "/" + page;
    const std::string html = read_file(path);
    check_is_text(html, path);
    if (skip && skip(html)) continue;
    std::string text = html_to_text(html, path, rules);
    if (!text.empty()) c.docs.push_back({page.substr(0, page.size() - 5), std::move(text)});
  }
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

void pack_pieces(const std::vector<std::string>& pieces, const std::string& prefix, const std::string& sep,
                 std::size_t per_doc, std::size_t max_chars, std::vector<Document>& out) {
  std::string text;
  std::size_t count = 0, k = 0;
  auto close = [&] {
    if (count == 0) return;
    out.push_back({prefix + "#" + std::to_string(k++), std::move(text)});
    text.clear();
    count = 0;
  };
  for (const auto& p : pieces) {
    if (count > 0) text += sep;
    text += p;
    ++count;
    if ((per_doc && count >= per_doc) || (max_chars && text.size() >= max_chars)) close();
  }
  close();
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::vector<std::string> split_paragraphs(const std::string& text) {
  std::vector<std::string> paras;
  std::string cur;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      if (!cur.empty()) paras.push_back(std::move(cur));
      cur.clear();
    } else {
      if (!cur.empty()) cur += '\n';
      cur += line;
    }
    start = end + 1;
  }
  if (!cur.empty()) paras.push_back(std::move(cur));
  return paras;
}

}  // namespace structlm::data::detail
