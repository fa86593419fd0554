// Helpers shared by the train and eval tests: scratch directories and error messages.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "support/temp_dir.h"

namespace structlm::testing {

using test_util::TempDir;  // one per test, named after it (support/temp_dir.h)

// The message of the structlm::Error that `f` throws, or "" if it throws none.
template <typename Fn>
std::string error_of(Fn f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace structlm::testing
