// What a run directory holds, and how commands find a checkpoint and its tokenizer from either a
// run directory or a checkpoint file. No torch here (the checkpoint's header is read directly).
#pragma once
#include <string>

namespace structlm::workspace {

struct RunFiles {
  std::string checkpoint;  // a .safetensors file, absolute
  std::string tokenizer;   // an absolute tokenizer directory or "gpt2" ("" if unknown)
};

// PATH is a checkpoint file, or a run directory (its checkpoints/latest.safetensors and the
// tokenizer named in its config.json). A checkpoint file's tokenizer is the one its metadata
// names ("tokenizer", as `structlm import` records it). `tokenizer` overrides both when not
// empty. An unknown tokenizer is an error unless require_tokenizer is false.
// A relative tokenizer path stored by an older run is taken relative to the working directory
// when it exists there, else relative to the run directory (or the checkpoint's directory).
RunFiles resolve_run(const std::string& path, const std::string& tokenizer, bool require_tokenizer = true);

// The metadata value that names a checkpoint's tokenizer: "gpt2", or the directory relative to
// the checkpoint's own directory when it is inside it (so the pair can be moved together), else
// absolute.
std::string tokenizer_reference(const std::string& checkpoint, const std::string& tokenizer);

}  // namespace structlm::workspace
