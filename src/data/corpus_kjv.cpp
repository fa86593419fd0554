// The King James Bible (Debian bible-kjv-text). Its data file is compressed in the package's own
// format, so it is read through the package's `bible` tool: `bible -f RANGE` prints one verse a
// line as `Ge1:1 In the beginning ...` whatever the terminal width. One document per chapter
// (id `Ge1`), one verse a line, references stripped.
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/error.h"
#include "data/corpus_internal.h"

namespace structlm::data::detail {
namespace {

const char* const kInstallHint = "install the Debian packages bible-kjv and bible-kjv-text "
                                 "(apt-get install bible-kjv bible-kjv-text, or scripts/setup.sh)";

bool executable_on_path(const std::string& tool) {
  if (tool.find('/') != std::string::npos) return ::access(tool.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Runs the tool and returns what it prints; stderr is merged in so that a failure can be reported
// in the tool's own words (a missing data file, a bad range).
std::string run_bible(const std::string& tool) {
  if (!executable_on_path(tool)) fail(tool, std::string("the KJV reader is not installed; ") + kInstallHint);
  std::string cmd = shell_quote(tool) + " -f 'Gen1:1-Rev22:21' </dev/null 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) fail(tool, "cannot run");
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  int status = ::pclose(pipe.release());
  if (status != 0 || out.empty()) {
    std::string first = out.substr(0, out.find('\n'));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    fail(tool, "failed (exit " + std::to_string(code) + ": " + first + "); " + kInstallHint);
  }
  return out;
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
