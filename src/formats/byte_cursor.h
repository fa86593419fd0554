// Bounded little-endian reads from untrusted bytes: every read checks what remains first, and
// every failure is an Error naming the file and the field being read. Private to src/formats.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"

namespace structlm::formats::detail {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the binary formats are read on little-endian hosts");

class ByteCursor {
 public:
  ByteCursor(const std::uint8_t* data, std::size_t size, std::string name)
      : data_(data), size_(size), name_(std::move(name)) {}

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }

  // "truncated" error for `field` unless n more bytes exist.
  void need(std::uint64_t n, const std::string& field) const {
    if (n > remaining())
      fail(name_, field + ": truncated (needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                      ", " + std::to_string(remaining()) + " left)");
  }
  template <typename T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_bytes(std::uint64_t n, const std::string& field) {
    need(n, field);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  void skip_to(std::uint64_t pos, const std::string& field) {
    if (pos > size_) fail(name_, field + ": offset " + std::to_string(pos) + " is past the end of the file");
    pos_ = static_cast<std::size_t>(pos);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string name_;
};

// a * b, false on overflow.
inline bool mul_ok(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}
inline bool add_ok(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a) return false;
  out = a + b;
  return true;
}

// Appends little-endian values to a byte string (the writers' side).
template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

}  // namespace structlm::formats::detail
