// Hugging Face Llama-family checkpoints into model::LlamaForCausalLM (issue 16): a folder with
// config.json and model.safetensors, or the shards named by model.safetensors.index.json; F32,
// F16 or BF16 tensors, read through memory maps shard by shard. Every tensor of the model must be
// in the files with its shape, every tensor in the files must be part of the model (the rotary
// inv_freq buffers some older checkpoints carry excepted), and with an index each tensor must sit
// in the shard the index names. Errors name the file and the tensor.
#pragma once
#include <string>

#include "interop/gpt_tensors.h"
#include "model/llama.h"

namespace structlm::interop {

// The model (float32 parameters, eval mode) of the Hugging Face folder `dir`.
model::LlamaForCausalLM import_hf_llama(const std::string& dir);

struct ImportedLlama {
  model::LlamaForCausalLM model{nullptr};
  bool wrote_tokenizer = false;   // the folder's tokenizer.json, now in the tokenizer directory
  std::string tokenizer_problem;  // why it was not taken ("" when taken or when there is none)
};

// import_hf_llama, and the folder's tokenizer.json copied into `tokenizer_dir` when structlm
// encodes with it exactly (text::Tokenizer::load_hf: byte-level BPE, with Qwen2's NFC, or
// SentencePiece-style BPE with byte fallback) and it has no more tokens
// than the model has rows; otherwise the reason, and nothing written. generation_config.json and
// tokenizer_config.json travel with it when present (kept for the user; structlm reads neither).
ImportedLlama import_hf_llama_folder(const std::string& dir, const std::string& tokenizer_dir);

// Writes `path` (one model.safetensors-style file, every tensor under its Hugging Face name, in
// `dtype`) and config.json next to it (torch_dtype set), so transformers' from_pretrained and
// import_hf_llama read the folder back as the same model; with a tokenizer directory that holds a
// tokenizer.json, that file (and tokenizer_config.json, generation_config.json) goes beside them.
void export_hf_llama(model::LlamaForCausalLM& model, const std::string& tokenizer_dir, const std::string& path,
                     FloatType dtype);

}  // namespace structlm::interop
