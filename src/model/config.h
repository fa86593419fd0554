// The model's shape, as plain data (no torch), so configs can be read, checked and printed by
// code that never touches tensors.
#pragma once
#include <cstdint>
#include <string>

#include "core/json.h"

namespace structlm::model {

struct GPTConfig {
  std::int64_t vocab_size = 4096;
  std::int64_t block_size = 256;  // context length T
  std::int64_t n_layer = 4;
  std::int64_t n_head = 4;
  std::int64_t n_embd = 256;
  double dropout = 0.0;
  bool bias = true;   // biases in Linear and LayerNorm, as GPT-2
  bool tied = true;   // output projection shares the input embedding table

  json to_json() const;
  // Unknown keys and bad values (n_embd % n_head != 0, sizes <= 0, dropout outside [0,1)) are
  // errors naming `path` and the field.
  static GPTConfig from_json(const json& j, const std::string& path);
  std::int64_t num_params() const;  // exact count, computed without building the model
};

}  // namespace structlm::model
