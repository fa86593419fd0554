// Writing and validating llm.c token shards (format facts in shard.h).
#include "data/shard.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace fs = std::filesystem;

namespace structlm::data {

static_assert(sizeof(std::int32_t) == 4 && sizeof(std::uint16_t) == 2, "shard layout assumes these sizes");
// The format is little-endian and we copy bytes as they are: fine on every machine we target.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "shards are little-endian");

constexpr std::size_t kHeaderBytes = kShardHeaderInts * sizeof(std::int32_t);

ShardWriter::ShardWriter(std::string path, std::size_t vocab_size)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())), vocab_size_(vocab_size) {
  if (fs::path(path_).has_parent_path()) make_dirs(fs::path(path_).parent_path().string());
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) fail(tmp_, "cannot open for writing");
  const std::int32_t header[kShardHeaderInts] = {};  // the real one is written by finish()
  out_.write(reinterpret_cast<const char*>(header), kHeaderBytes);
}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  out_.close();
  std::remove(tmp_.c_str());  // an unfinished shard never reaches its name
}

void ShardWriter::append(const std::uint32_t* tokens, std::size_t n) {
  if (count_ + n > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    fail(path_, "too many tokens for one shard (" + std::to_string(count_ + n) + ", the format's limit is 2^31 - 1)");
  for (std::size_t i = 0; i < n; ++i)
    if (tokens[i] >= vocab_size_)
      fail(path_, "token " + std::to_string(count_ + i) + " is " + std::to_string(tokens[i]) +
                      ", outside the vocabulary of " + std::to_string(vocab_size_));
  if (vocab_size_ > 65536) {
    out_.write(reinterpret_cast<const char*>(tokens), static_cast<std::streamsize>(n * 4));
  } else {
    buf_.resize(n);
    for (std::size_t k = 0; k < n; ++k) buf_[k] = static_cast<std::uint16_t>(tokens[k]);
    out_.write(reinterpret_cast<const char*>(buf_.data()), static_cast<std::streamsize>(n * 2));
  }
  count_ += n;
}

void ShardWriter::finish() {
  const bool narrow = vocab_size_ <= 65536;
  std::int32_t header[kShardHeaderInts] = {};
  header[0] = narrow ? kShardMagic : kShardMagicU32;
  header[1] = narrow ? kShardVersion : kShardVersionU32;
  header[2] = static_cast<std::int32_t>(count_);
  out_.seekp(0);
  out_.write(reinterpret_cast<const char*>(header), kHeaderBytes);
  out_.flush();
  if (!out_) fail(tmp_, "write failed (disk full?)");
  out_.close();
  // fsync before the rename, as write_file_atomic does: a crash leaves the old file or the new one.
  const int fd = ::open(tmp_.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, "cannot rename temp file into place");
  finished_ = true;
}

void write_shard(const std::string& path, const std::vector<std::uint32_t>& tokens, std::size_t vocab_size) {
  ShardWriter w(path, vocab_size);
  w.append(tokens.data(), tokens.size());
  w.finish();
}

Shard::Shard(const std::string& path) : file_(path) {
  const std::size_t size = file_.size();
  if (size < kHeaderBytes)
    fail(path, "truncated header: " + std::to_string(size) + " bytes, a shard header is " + std::to_string(kHeaderBytes));
  std::int32_t h[3];
  std::memcpy(h, file_.data(), sizeof h);
  if (h[0] == kShardMagic) {
    if (h[1] != kShardVersion)
      fail(path, "header field 'version' is " + std::to_string(h[1]) + ", expected 1 for magic 20240520");
    width_ = 2;
  } else if (h[0] == kShardMagicU32) {
    if (h[1] != kShardVersionU32)
      fail(path, "header field 'version' is " + std::to_string(h[1]) + ", expected 7 for magic 20240801");
    width_ = 4;
  } else {
    fail(path, "header field 'magic' is " + std::to_string(h[0]) +
                   ", expected 20240520 or 20240801 (not an llm.c token shard)");
  }
  if (h[2] < 0) fail(path, "header field 'count' is negative (" + std::to_string(h[2]) + ")");
  count_ = static_cast<std::size_t>(h[2]);
  const std::size_t expected = kHeaderBytes + count_ * static_cast<std::size_t>(width_);
  if (size != expected)
    fail(path, "header field 'count' says " + std::to_string(count_) + " tokens (" + std::to_string(expected) +
                   " bytes) but the file has " + std::to_string(size) + " bytes");
}

std::uint32_t Shard::operator[](std::size_t i) const {
  if (i >= count_) fail(path(), "token index " + std::to_string(i) + " out of range (" + std::to_string(count_) + ")");
  const std::uint8_t* p = file_.data() + kHeaderBytes + i * width_;
  if (width_ == 2) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::uint32_t Shard::max_id() const {
  const std::uint8_t* p = file_.data() + kHeaderBytes;
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < count_; ++i) {  // memcpy: the data is not aligned for the width
    std::uint32_t v = 0;
    if (width_ == 2) {
      std::uint16_t u;
      std::memcpy(&u, p + 2 * i, 2);
      v = u;
    } else {
      std::memcpy(&v, p + 4 * i, 4);
    }
    m = std::max(m, v);
  }
  return m;
}

void Shard::read(std::size_t start, std::size_t n, std::int64_t* out) const {
  if (start > count_ || n > count_ - start)
    fail(path(), "read of tokens [" + std::to_string(start) + ", " + std::to_string(start + n) + ") past the end (" +
                     std::to_string(count_) + ")");
  // The data starts 1024 bytes into a page-aligned map, so these pointers are aligned.
  const std::uint8_t* base = file_.data() + kHeaderBytes;
  if (width_ == 2) {
    const auto* p = reinterpret_cast<const std::uint16_t*>(base) + start;
    for (std::size_t k = 0; k < n; ++k) out[k] = p[k];
  } else {
    const auto* p = reinterpret_cast<const std::uint32_t*>(base) + start;
    for (std::size_t k = 0; k < n; ++k) out[k] = p[k];
  }
}

}  // namespace structlm::data
