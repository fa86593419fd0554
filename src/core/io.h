// File I/O that never loses data: reads with errors that name the file, writes that are atomic
// (temp file in the same directory, fsync, rename), and read-only memory maps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace structlm {

std::string read_file(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
std::uint64_t file_size(const std::string& path);
void make_dirs(const std::string& path);  // mkdir -p; error names the path
// Files directly or recursively under dir, sorted, so every listing is deterministic.
std::vector<std::string> list_files(const std::string& dir, bool recursive = false);

// Writes `path` atomically: `write` fills a stream bound to PATH.tmp.<pid>, which is flushed,
// fsync'ed and renamed over `path`. A crash leaves either the old file or the new one.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);
void append_line(const std::string& path, const std::string& line);  // for JSONL logs

// Read-only memory map of a whole file (empty files map to {nullptr, 0}).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace structlm
