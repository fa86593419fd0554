// Corpora a user points at: a text file (.txt/.md), a JSONL file, or a directory of files.
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "data/corpus_internal.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

// A long text file is one work, but one document would put all of it in a single split; chunks of
// whole paragraphs make splitting by document meaningful and never cut a paragraph.
Corpus load_text_file(const std::string& path, std::size_t doc_chars) {
  std::string stem = fs::path(path).stem().string();
  Corpus c{stem, path, {}};
  const std::string text = read_file(path);
  check_is_text(text, path);
  pack_pieces(split_paragraphs(text), stem, "\n\n", 0, doc_chars ? doc_chars : 8192, c.docs);
  if (c.docs.empty()) fail(path, "holds no text");
  return c;
}

Corpus load_jsonl_file(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  Corpus c{stem, path, {}};
  std::size_t lineno = 0;
  for (const auto& line : read_lines(path)) {
    ++lineno;
    if (trim(line).empty()) continue;
    std::string where = "line " + std::to_string(lineno) + ": ";
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      fail(path, where + "invalid JSON at byte " + std::to_string(e.byte));
    } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
      fail(path, where + "invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) fail(path, where + "expected an object like {\"text\": ...}, got " + j.type_name());
    auto text = j.find("text");
    if (text == j.end() || !text->is_string()) fail(path, where + "missing string field 'text'");
    Document d;
    d.text = text->get<std::string>();
    auto id = j.find("id");
    if (id == j.end() || id->is_null()) {
      d.id = stem + ":" + std::to_string(lineno);  // stable as long as the file is not edited
    } else if (id->is_string()) {
      d.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      d.id = id->dump();
    } else {
      fail(path, where + "field 'id' must be a string or an integer");
    }
    c.docs.push_back(std::move(d));
  }
  if (c.docs.empty()) fail(path, "holds no documents");
  return c;
}

Corpus load_directory(const std::string& path) {
  fs::path root(path);
  std::string name = root.filename().string();
  if (name.empty() || name == ".") name = root.parent_path().filename().string();  // "dir/" or "dir/."
  Corpus c{name.empty() ? "corpus" : name, path, {}};
  // Ids are paths relative to the directory, so they survive moving the directory.
  for (const auto& f : list_files(path, /*recursive=*/true)) {
    std::string text = read_file(f);
    check_is_text(text, f);  // one binary file refuses the directory, naming the file
    c.docs.push_back({fs::path(f).lexically_relative(root).generic_string(), std::move(text)});
  }
  if (c.docs.empty()) fail(path, "holds no files");
  return c;
}

}  // namespace structlm::data::detail
