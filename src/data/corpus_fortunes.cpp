// Debian's fortunes package (fortune-mod's collections; BSD licence): the quotation files under
// /usr/share/games/fortunes, one document per fortune (id `file#k`, k counting from 0 in the
// file). Files are the plain ones (not the .dat indexes, nor the .u8 links to the same files),
// sorted by name; `ascii-art` (pictures) is left out. A fortune is the text between lines that
// hold only `%`; its lines keep their breaks (verse, dialogue, attributions), each line trimmed;
// overstruck characters (`c<BS>c`, old bold and underline) keep the character printed last.
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

const char* const kInstallHint = "install the Debian package fortunes (scripts/setup.sh --corpus fortunes)";

std::string drop_overstrikes(const std::string& t) {
  std::string out;
  for (char c : t) {
    if (c == '\b') {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::vector<std::string> split_fortunes(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  auto close = [&] {
    while (!current.empty() && current.back() == '\n') current.pop_back();
    if (!current.empty()) out.push_back(current);
    current.clear();
  };
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line == "%") {
      close();
      continue;
    }
    if (line.empty() && current.empty()) continue;  // leading blank lines
    current += line + "\n";
  }
  close();
  return out;
}

Corpus load_fortunes(const CorpusPaths& paths) {
  const std::string& dir = paths.fortunes_dir;
  if (!is_directory(dir)) fail(dir, std::string("missing: the fortunes are not installed; ") + kInstallHint);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto& p = e.path();
    if (!e.is_regular_file() || e.is_symlink() || p.has_extension() || p.filename() == "ascii-art") continue;
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  Corpus c{"fortunes", dir, {}};
  for (const auto& f : files) {
    const std::string text = drop_overstrikes(read_file(f.string()));
    check_is_text(text, f.string());
    std::size_t k = 0;
    for (auto& fortune : split_fortunes(text))
      c.docs.push_back({f.filename().string() + "#" + std::to_string(k++), std::move(fortune)});
  }
  if (c.docs.empty()) fail(dir, "holds no fortunes");
  return c;
}

}  // namespace structlm::data::detail
