// Helpers shared by the train and eval tests: scratch directories and error messages.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"

namespace structlm::testing {

// A fresh, empty directory under the system's temp dir, unique to this process.
inline std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / ("structlm_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

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
