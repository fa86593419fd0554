// Running the structlm binary from the CLI tests: its exit code and everything it printed.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "core/io.h"
#include "core/json.h"

namespace cli_test {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr together
};

inline std::string cli() { return STRUCTLM_CLI; }

// A shell command line as given (e.g. "cd DIR && structlm ..."), stdout and stderr together.
inline Result run_shell(const std::string& command) {
  std::string cmd = "(" + command + ") 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline Result run(const std::string& args) { return run_shell(std::string(STRUCTLM_CLI) + " " + args); }

// A small corpus with enough structure to learn from: 40 JSONL documents of templated sentences
// (8 nouns, 6 verbs). Returns `path`.
inline std::string write_corpus(const std::string& path) {
  const char* nouns[] = {"cat", "dog", "bird", "child", "farmer", "teacher", "river", "king"};
  const char* verbs[] = {"sees", "likes", "follows", "finds", "calls", "helps"};
  std::string out;
  for (int d = 0; d < 40; ++d) {
    std::string doc;
    for (int s = 0; s < 30; ++s)
      doc += std::string("The ") + nouns[(d + s) % 8] + " " + verbs[(d * 3 + s) % 6] + " the " + nouns[(s * 5 + d) % 8] + ". ";
    out += structlm::json({{"id", "doc" + std::to_string(d)}, {"text", doc}}).dump() + "\n";
  }
  structlm::write_file_atomic(path, out);
  return path;
}

}  // namespace cli_test
