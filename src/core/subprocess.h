// Running a helper program (gnuplot, git) without a shell: argv goes to posix_spawnp as is, so
// paths with spaces or quotes need no escaping, and stdout/stderr come back as strings.
#pragma once
#include <string>
#include <vector>

namespace structlm {

struct ProcessResult {
  int exit_code = -1;  // the program's exit status; 128 + N when killed by signal N
  std::string out, err;
};

// Runs argv[0] (looked up in PATH) with `input` on its stdin. Throws structlm::Error naming the
// program when it cannot be started (e.g. not installed).
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "");

// True when `program` is an executable somewhere on PATH (or an executable path).
bool program_available(const std::string& program);

}  // namespace structlm
