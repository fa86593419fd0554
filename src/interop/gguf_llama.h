// GGUF files of llama.cpp's `llama` architecture into model::LlamaForCausalLM (issue 16): the
// names, dims and q/k row permutation of llama.cpp's converter undone; the file's byte-level BPE
// vocabulary written as a tokenizer.json. Errors name the file and the key or tensor. Not yet:
// Llama 3's rope_freqs tensor (import the Hugging Face folder), SentencePiece vocabularies,
// quantized tensors (the GGUF parser refuses them by type), export.
#pragma once
#include <string>

#include "interop/hf_llama.h"

namespace structlm::interop {

// general.architecture of a GGUF file (parsed and checked whole).
std::string gguf_architecture(const std::string& path);

// The model (float32, eval mode); with `tokenizer_dir` not empty, the file's tokenizer as
// tokenizer_dir/tokenizer.json when this reader can write it (else tokenizer_problem says why).
ImportedLlama import_gguf_llama(const std::string& path, const std::string& tokenizer_dir);

}  // namespace structlm::interop
