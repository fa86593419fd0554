#include "formats/detect.h"

#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "formats/llmc.h"

namespace structlm::formats {

std::string detect_model_format(const std::string& path) {
  MappedFile f(path);
  const std::uint8_t* d = f.data();
  if (f.size() >= 4 && std::memcmp(d, "GGUF", 4) == 0) return "gguf";
  std::int32_t magic = 0;
  if (f.size() >= 4) std::memcpy(&magic, d, 4);
  if (magic == kLlmcModelMagic) return "llmc";
  if (f.size() >= 9 && d[8] == '{') return "hf";
  fail(path, "cannot tell the format (not GGUF, an llm.c model or safetensors); pass --from");
}

}  // namespace structlm::formats
