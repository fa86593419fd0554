// Which model file format a file holds, from its first bytes: `structlm import` without --from.
#pragma once
#include <string>

namespace structlm::formats {

// "gguf" (GGUF's magic), "llmc" (llm.c's model magic) or "hf" (a safetensors header: 8-byte
// length, then '{'); anything else is an error naming the file and suggesting --from.
std::string detect_model_format(const std::string& path);

}  // namespace structlm::formats
