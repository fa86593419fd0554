// The precision names a config or flag may hold, apart from precision.h so that the config
// parsers (fuzzed and sanitized without torch, see fuzz/CMakeLists.txt) can check them.
#pragma once
#include <string>

namespace structlm::model {

constexpr const char* kPrecisionNames = "auto, fp32 or bf16";

inline bool is_precision_name(const std::string& name) { return name == "auto" || name == "fp32" || name == "bf16"; }

}  // namespace structlm::model
