// The King James Bible (Debian bible-kjv-text). Its data file is compressed in the package's own
// format, so it is read through the package's `bible` tool: `bible -f RANGE` prints one verse a
// line as `Ge1:1 In the beginning ...` whatever the terminal width. One document per chapter
// (id `Ge1`), one verse a line, references stripped.

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/subprocess.h"
#include "data/corpus_internal.h"

namespace structlm::data::detail {
namespace {

const char* const kInstallHint = "install the Debian packages bible-kjv and bible-kjv-text "
                                 "(apt-get install bible-kjv bible-kjv-text, or scripts/setup.sh)";

// Runs the tool and returns what it prints; on failure the error carries the tool's own words
// (a missing data file, a bad range).
std::string run_bible(const std::string& tool) {
  if (!program_available(tool)) fail(tool, std::string("the KJV reader is not installed; ") + kInstallHint);
  ProcessResult r = run_process({tool, "-f", "Gen1:1-Rev22:21"});
  if (r.exit_code != 0 || r.out.empty()) {
    std::string said = r.err.empty() ? r.out : r.err;
    fail(tool, "failed (exit " + std::to_string(r.exit_code) + ": " + said.substr(0, said.find('\n')) + "); " +
                   kInstallHint);
  }
  return r.out;
}

// "Ge1:1" -> chapter "Ge1"; false if the word is not a verse reference.
bool chapter_of(const std::string& ref, std::string& chapter) {
  auto colon = ref.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= ref.size()) return false;
  if (!std::isdigit(static_cast<unsigned char>(ref[colon - 1]))) return false;
  for (std::size_t i = colon + 1; i < ref.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(ref[i]))) return false;
  chapter = ref.substr(0, colon);
  return true;
}

}  // namespace

Corpus load_kjv(const CorpusPaths& paths) {
  std::string out = run_bible(paths.bible_tool);
  Corpus c{"kjv", paths.bible_tool + " (bible-kjv-text)", {}};
  std::string chapter;
  std::size_t start = 0, lineno = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = trim(out.substr(start, end - start));
    start = end + 1;
    ++lineno;
    if (line.empty()) continue;
    std::size_t sp = line.find(' ');
    std::string ref = line.substr(0, sp);
    if (chapter_of(ref, chapter)) {
      std::string verse = sp == std::string::npos ? "" : trim(line.substr(sp + 1));
      if (c.docs.empty() || c.docs.back().id != chapter) {
        c.docs.push_back({chapter, verse});
      } else {
        c.docs.back().text += "\n" + verse;
      }
    } else if (!c.docs.empty()) {
      c.docs.back().text += " " + line;  // a wrapped verse, should the tool ever wrap
    } else {
      fail(paths.bible_tool, "unexpected output at line " + std::to_string(lineno) + ": " + line.substr(0, 80));
    }
  }
  if (c.docs.empty()) fail(paths.bible_tool, std::string("printed no verses; ") + kInstallHint);
  return c;
}

}  // namespace structlm::data::detail
