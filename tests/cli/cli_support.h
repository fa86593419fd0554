// Running the structlm binary from the CLI tests: its exit code and everything it printed.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

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

}  // namespace cli_test
