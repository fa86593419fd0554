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

// Runs argv[0] sharing this process's stdin, stdout and stderr (a child's progress lines show
// as they come) and waits for it. Reports its exit code, wall time and peak resident memory
// (the kernel's ru_maxrss of that child, from wait4), e.g. to compare training runs' memory.
struct ChildUsage {
  int exit_code = -1;  // 128 + N when killed by signal N
  double wall_s = 0, peak_rss_mib = 0;
};
ChildUsage run_attached(const std::vector<std::string>& argv);

// The path of the running executable (/proc/self/exe), so an experiment can start its own
// steps as child processes of the same binary.
std::string self_exe();

// True when `program` is an executable somewhere on PATH (or an executable path).
bool program_available(const std::string& program);

// One word of a POSIX shell command line: `word` as is when made only of characters no shell
// treats specially, else in single quotes (a quote inside written '\''). Shared by the plans
// `experiment --plan` prints and the report's "Regenerate with" line.
std::string shell_quote(const std::string& word);

}  // namespace structlm
