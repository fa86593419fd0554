// Building safetensors files byte by byte, as the spec lays them out, for tests that need files
// our writer would never produce.
#pragma once
#include <cstdint>
#include <string>

namespace structlm::test_util {

inline std::string le64(std::uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// Length, header text, data.
inline std::string safetensors_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

}  // namespace structlm::test_util
