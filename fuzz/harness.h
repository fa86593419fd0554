// What every fuzz target shares. A parser's answer to bad input is a structlm::Error whose
// message names the input; any other exception, a crash, a sanitizer report, a leak, or an
// allocation over libFuzzer's -malloc_limit_mb is a finding. Parsers that only take a path read
// the input through a memfd (MemoryFile), so nothing touches the disk and no API changes.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace structlm::fuzz {

// An anonymous in-memory file, reused across inputs; path() opens it again like a real file.
class MemoryFile {
 public:
  explicit MemoryFile(const char* name) : fd_(::memfd_create(name, 0)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Replaces the contents with these bytes.
  const std::string& hold(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0 || (size && ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size))) {
      std::perror("memfd write");
      std::abort();
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// A property the parser promised and broke: report it as a crash with the reason.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

// Runs `parse`; a structlm::Error must name one of `names` (the input's file names).
template <typename Parse>
void expect_clean_error(Parse&& parse, std::initializer_list<const std::string*> names) {
  try {
    parse();
  } catch (const structlm::Error& e) {
    const std::string message = e.what();
    for (const std::string* name : names)
      if (message.find(*name) != std::string::npos) return;
    finding("error message does not name the input: " + message);
  }
}

}  // namespace structlm::fuzz
