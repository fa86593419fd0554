// GGUF files of llama.cpp's `llama` architecture into model::LlamaForCausalLM and back (issue 16):
// the names, dims and q/k row permutation of llama.cpp's converter undone on import and applied on
// export; the file's byte-level BPE vocabulary written as a tokenizer.json, and a tokenizer
// directory's vocabulary written into the file. Errors name the file and the key or tensor. Llama
// 3's rope scaling is written (rope_freqs.weight) but not read back yet (import the Hugging Face
// folder). Not yet: SentencePiece vocabularies,
// Qwen2 (GGUF architecture qwen2), quantized tensors (the GGUF parser refuses them by type).
#pragma once
#include <string>

#include "interop/hf_llama.h"

namespace structlm::interop {

// general.architecture of a GGUF file (parsed and checked whole).
std::string gguf_architecture(const std::string& path);

// The model (float32, eval mode); with `tokenizer_dir` not empty, the file's tokenizer as
// tokenizer_dir/tokenizer.json when this reader can write it (else tokenizer_problem says why).
ImportedLlama import_gguf_llama(const std::string& path, const std::string& tokenizer_dir);

// Writes `path` as convert_hf_to_gguf.py writes a llama model: its metadata keys, llama.cpp's
// tensor names, q/k rows permuted into adjacent pairs, 1-D tensors F32 and matrices `dtype`, and
// the vocabulary of `tokenizer_dir` (GPT-2's files, or a byte-level BPE tokenizer.json whose
// pre-tokenizer is GPT-2's or Llama 3's) with its added tokens as control tokens, and Llama 3's
// rope scaling as rope_freqs.weight. Refused, naming why: Qwen2, a SentencePiece-style
// vocabulary, no tokenizer.
void export_gguf_llama(model::LlamaForCausalLM& model, const std::string& tokenizer_dir, const std::string& path,
                       FloatType dtype, const std::string& name);

}  // namespace structlm::interop
