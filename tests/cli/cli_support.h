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

inline Result run(const std::string& args) {
  std::string cmd = std::string(STRUCTLM_CLI) + " " + args + " 2>&1";
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

}  // namespace cli_test
