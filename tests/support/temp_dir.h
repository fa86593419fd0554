// A fresh directory per test (named after the test, the process and an optional tag, so two in
// one test do not collide), removed afterwards: tests never see each other's files.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"

namespace structlm::test_util {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "outside-test";
    if (!tag.empty()) name += "." + tag;
    path_ = (std::filesystem::temp_directory_path() / ("structlm-" + name + "-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs f and returns the Error message it throws, or fails the test if it throws nothing.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const structlm::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

}  // namespace structlm::test_util
