// Hugging Face Llama-family checkpoints into model::LlamaForCausalLM (issue 16): a folder with
// config.json and model.safetensors, or the shards named by model.safetensors.index.json; F32,
// F16 or BF16 tensors, read through memory maps shard by shard. Every tensor of the model must be
// in the files with its shape, every tensor in the files must be part of the model (the rotary
// inv_freq buffers some older checkpoints carry excepted), and with an index each tensor must sit
// in the shard the index names. Errors name the file and the tensor.
#pragma once
#include <string>

#include "model/llama.h"

namespace structlm::interop {

// The model (float32 parameters, eval mode) of the Hugging Face folder `dir`.
model::LlamaForCausalLM import_hf_llama(const std::string& dir);

}  // namespace structlm::interop
