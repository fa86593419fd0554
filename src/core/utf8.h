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

}  // namespace structlm
