// Checkpoints are safetensors files: the model's tensors under their own names, optimizer state
// under "optim.<state>.<param name>", and "__metadata__" holding JSON strings ("config", "train
// state": step, tokens seen, ...). One file, written atomically, readable by any safetensors tool.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "core/json.h"
#include "model/gpt.h"
#include "model/llama.h"

namespace structlm::model {

// The architecture is metadata "arch": absent or "gpt" for model/gpt.h (with "config" a GPTConfig),
// "llama" for model/llama.h (with "config" the Hugging Face config.json it was built from).
struct Checkpoint {
  std::string arch = "gpt";
  GPTConfig config;  // arch "gpt" only
  std::map<std::string, torch::Tensor> tensors;  // every tensor in the file, by name
  json meta;  // every metadata entry parsed as JSON (strings that are not JSON kept as strings)
};

// Writes model parameters (+ `extra` tensors, e.g. optimizer state) and metadata atomically.
void save_checkpoint(const std::string& path, GPT& model, const std::map<std::string, torch::Tensor>& extra,
                     const json& meta);
// A Llama-family model: arch "llama", config its Hugging Face config.json (formats/hf_llama_config.h),
// and with CSTDE's attention on, metadata "cstde" its model.cstde section.
void save_checkpoint(const std::string& path, LlamaForCausalLM& model, const json& meta);
// The same with `extra` tensors (a training run's optimizer state).
void save_checkpoint(const std::string& path, LlamaForCausalLM& model, const std::map<std::string, torch::Tensor>& extra,
                     const json& meta);
// The same for any module: its parameters and buffers under their module paths; `meta` must
// hold "config" (and "arch" for anything but a GPT).
void save_module_checkpoint(const std::string& path, torch::nn::Module& model,
                            const std::map<std::string, torch::Tensor>& extra, const json& meta);
// A GPT checkpoint; another architecture is an error naming the file and the arch.
Checkpoint read_checkpoint(const std::string& path);  // errors name the file and the tensor
// A checkpoint of any architecture: "config" is parsed into `config` only for arch "gpt".
Checkpoint read_any_checkpoint(const std::string& path);
// Loads a checkpoint's weights into a model of its shape (shapes checked, names must match);
// errors name `source` (the checkpoint's path, or the file it was converted from).
// zoo::load_model builds the model a checkpoint describes and loads it.
void load_weights(GPT& model, const Checkpoint& ckpt, const std::string& source = "checkpoint");
void load_module_weights(torch::nn::Module& model, const Checkpoint& ckpt, const std::string& source = "checkpoint");

}  // namespace structlm::model
