// Helpers shared by the train and eval tests: scratch directories and error messages.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"

namespace structlm::testing {

// A fresh, empty directory under the system's temp dir, unique to this process, removed with
// everything in it when the test ends.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) {
    namespace fs = std::filesystem;
    path = (fs::temp_directory_path() / ("structlm_" + name + "_" + std::to_string(::getpid()))).string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

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
