// What a run directory holds, and how commands find a checkpoint and its tokenizer from either a
// run directory or a checkpoint file.
#pragma once
#include <string>

namespace structlm::cli {

struct RunFiles {
  std::string checkpoint;  // a .safetensors file
  std::string tokenizer;   // a tokenizer directory or "gpt2" ("" if unknown)
};

// PATH is a checkpoint file, or a run directory (its checkpoints/latest.safetensors and the
// tokenizer named in its config.json). `tokenizer` overrides what the run says when not empty.
RunFiles resolve_run(const std::string& path, const std::string& tokenizer);

}  // namespace structlm::cli
