// safetensors dtype names and sizes (the subset of the spec's dtypes this project uses).
#include "formats/safetensors.h"

namespace structlm::formats {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};
}  // namespace

const char* dtype_name(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i.name;
  return "?";
}

std::size_t dtype_size(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i.size;
  return 0;
}

bool parse_dtype(const std::string& s, DType& out) {
  for (const auto& i : kDTypes)
    if (s == i.name) {
      out = i.dtype;
      return true;
    }
  return false;
}

std::uint64_t TensorInfo::numel() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);  // checked for overflow when read or added
  return n;
}

}  // namespace structlm::formats
