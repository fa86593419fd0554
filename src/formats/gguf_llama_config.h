// The hyperparameters of a llama.cpp GGUF file of architecture `llama` or `qwen2`, read into the
// Hugging Face config the Llama model is built from: torch-free, so the fuzz target
// fuzz/fuzz_gguf_llama.cpp drives it (with the vocabulary reader) on arbitrary files. Everything
// the model is built from is checked here: sizes in 1..2^31-1, heads divisible by key/value
// heads, an even head size, a layer count the file's tensors can hold. Llama 3's rope factors
// (tensor rope_freqs.weight) are read by interop::import_gguf_llama, which needs torch.
#pragma once
#include <cstdint>
#include <string>

#include "formats/gguf.h"
#include "formats/hf_llama_config.h"

namespace structlm::formats {

// llama.cpp's token types (llama_token_type / gguf-py TokenType).
constexpr std::int32_t kGgufTokenNormal = 1, kGgufTokenControl = 3, kGgufTokenUserDefined = 4, kGgufTokenUnused = 5;

// A GGUF integer hyperparameter that must fit the models' int64 sizes and int32 range (1..2^31-1);
// errors name the file and the key.
std::int64_t gguf_hparam(const GgufFile& f, const std::string& key);

// The config of f's `llama` or `qwen2` model (vocab_size from token_embd.weight; tied when the
// file has no output.weight; biases as the tensors present say); Error naming f.name and the key.
HfLlamaConfig llama_config_from_gguf(const GgufFile& f);

}  // namespace structlm::formats
