// Errors that reach the user. Every message names the file (or the option) and the problem,
// so the CLI can print it and exit non-zero instead of crashing.
#pragma once
#include <stdexcept>
#include <string>

namespace structlm {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "PATH: problem" — the one shape of every file-related error message.
[[noreturn]] inline void fail(const std::string& path, const std::string& problem) {
  throw Error(path + ": " + problem);
}

// For invariants that only bad input can break (not programming errors).
inline void check(bool ok, const std::string& path, const std::string& problem) {
  if (!ok) fail(path, problem);
}

}  // namespace structlm
