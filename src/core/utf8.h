// UTF-8 validity, by lead and continuation bytes (overlong forms are not checked): shared by the
// sentence splitter and the corpus readers' text check.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace structlm {

// The offset of the first byte that does not decode, or std::string::npos when all of `s` does.
inline std::size_t invalid_utf8_offset(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return i;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return i;
    i += n + 1;
  }
  return std::string::npos;
}

// The same, strictly as RFC 3629 (and so nlohmann-json's dump) reads UTF-8: also no overlong
// forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF. For text that goes into JSON.
inline std::size_t invalid_strict_utf8_offset(std::string_view s) {
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    const unsigned char c = byte(i);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return i;
    if (i + n >= s.size() && n > 0) return i;
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned char b = byte(i + k);
      if (k == 1 ? (b < lo || b > hi) : (b >> 6) != 2) return i;
    }
    i += n + 1;
  }
  return std::string::npos;
}

}  // namespace structlm
