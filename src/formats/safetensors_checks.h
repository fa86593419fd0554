// Size arithmetic shared by the safetensors reader and writer: shape products and byte counts
// come from untrusted files, so every multiplication is checked. Private to src/formats.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace structlm::formats::detail {

// Bytes a tensor of this dtype and shape takes; false on a negative dimension or overflow.
inline bool tensor_bytes(DType dtype, const std::vector<std::int64_t>& shape, std::uint64_t& out) {
  std::uint64_t n = dtype_size(dtype);
  for (auto d : shape) {
    if (d < 0) return false;
    auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > std::numeric_limits<std::uint64_t>::max() / u) return false;
    n *= u;
  }
  out = n;
  return true;
}

inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the limit Hugging Face's reader uses

}  // namespace structlm::formats::detail
