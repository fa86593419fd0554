// Checkpoints are safetensors files: the model's tensors under their own names, optimizer state
// under "optim.<state>.<param name>", and "__metadata__" holding JSON strings ("config", "train
// state": step, tokens seen, ...). One file, written atomically, readable by any safetensors tool.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "core/json.h"
#include "model/gpt.h"

namespace structlm::model {

struct Checkpoint {
  GPTConfig config;
  std::map<std::string, torch::Tensor> tensors;  // every tensor in the file, by name
  json meta;  // every metadata entry parsed as JSON (strings that are not JSON kept as strings)
};

// Writes model parameters (+ `extra` tensors, e.g. optimizer state) and metadata atomically.
void save_checkpoint(const std::string& path, GPT& model, const std::map<std::string, torch::Tensor>& extra,
                     const json& meta);
Checkpoint read_checkpoint(const std::string& path);  // errors name the file and the tensor
// Loads a checkpoint's weights into a model of its shape (shapes checked, names must match).
// zoo::load_model builds the model a checkpoint describes and loads it.
void load_weights(GPT& model, const Checkpoint& ckpt);

}  // namespace structlm::model
