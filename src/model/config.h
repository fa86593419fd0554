// The model's shape, as plain data (no torch), so configs can be read, checked and printed by
// code that never touches tensors.
#pragma once
#include <cstdint>
#include <string>

#include "core/fields.h"
#include "core/json.h"

namespace structlm::model {

// CSTDE (docs/METHODS.md §1, docs/CSTDE.md). All off by default: a config without a "cstde"
// section is the plain GPT, byte for byte (same tensors, same JSON).
struct CstdeConfig {
  bool init = false;       // §1a: input embeddings from PPMI + SVD of training co-occurrences
  bool attention = false;  // §1b: dependency scorer + per-head gate beta in every layer
  bool carry = true;       // D^l = (1 - gamma) D^{l-1} + gamma D^new; false = "no carry" (gamma = 1)
  std::int64_t rank = 32;          // r, scorer rank shared by a layer's heads
  std::int64_t buckets = 32;       // relative-distance buckets of the scorer's bias (T5-style)
  std::int64_t max_distance = 128; // distances >= this share the last bucket
  std::int64_t window = 8;         // §1a co-occurrence window w
  double epsilon = 1e-6;           // log(D + epsilon) in the attention logits

  bool any() const { return init || attention; }
  static const FieldTable<CstdeConfig>& fields();  // names, members, help (core/fields.h)
  json to_json() const;
  static CstdeConfig from_json(const json& j, const std::string& path);
};

struct GPTConfig {
  std::int64_t vocab_size = 4096;
  std::int64_t block_size = 256;  // context length T
  std::int64_t n_layer = 4;
  std::int64_t n_head = 4;
  std::int64_t n_embd = 256;
  double dropout = 0.0;
  bool bias = true;   // biases in Linear and LayerNorm, as GPT-2
  bool tied = true;   // output projection shares the input embedding table
  CstdeConfig cstde;  // written to JSON only when some part is switched on

  static const FieldTable<GPTConfig>& fields();  // names, members, help (core/fields.h)
  json to_json() const;
  // Unknown keys and bad values (n_embd % n_head != 0, sizes <= 0, dropout outside [0,1)) are
  // errors naming `path` and the field.
  static GPTConfig from_json(const json& j, const std::string& path);
  std::int64_t num_params() const;  // exact count, computed without building the model
};

}  // namespace structlm::model
