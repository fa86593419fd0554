// The model's shape, as plain data (no torch), so configs can be read, checked and printed by
// code that never touches tensors.
#pragma once
#include <cstdint>
#include <string>

#include "core/fields.h"
#include "core/json.h"
#include "formats/hf_llama_config.h"

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
  // Leaving the saddle at init (docs/CSTDE.md, "Starting off the saddle"). With beta = 0 every
  // gradient into U, V, the bias and gamma is exactly zero, and a zero bias leaves D near uniform,
  // so dL/dbeta is near zero too. The old start is prior_init "zero", beta_init 0, lr_mult 1,
  // decay_uv true.
  std::string prior_init = "log_distance";  // rel_bias at init: "zero" or "log_distance" (b = -log(1 + k))
  double beta_init = 0;             // every head's beta at init (0: the model starts as the plain GPT)
  double lr_mult = 1;               // learning-rate multiplier of beta, gamma, U, V and the bias
  bool decay_uv = false;            // AdamW weight decay on U and V (beta, gamma and the bias never decay)
  // The co-occurrences of the structured init: "trained" = exactly the windows the run trains
  // on (train.max_steps batches, in the trainer's order), "split" = the whole training split.
  std::string init_tokens = "trained";
  // E1's control (issue 14): the structured rows shuffled among the tokens of each frequency bin
  // (cstde::permute_within_frequency_bins): the same spectrum and norms, the wrong identities. Any
  // gain it keeps is not the co-occurrence structure's.
  bool init_permute = false;
  // The scorer of D (issue 14's controls): "bilinear" (u_i . v_j / sqrt(r) + b(i - j), the
  // method) or "distance" (b(i - j) alone, no U and V: a learned recency prior that reads no
  // token, the control for "any gain is plain recency"); prior_trainable false freezes the
  // distance bias (with "distance" and prior_init "log_distance": D fixed to the prior).
  std::string scorer = "bilinear";
  bool prior_trainable = true;

  bool any() const { return init || attention; }
  // The trainable parameters the attention adds to a model of this shape (0 with it off): per
  // layer U and V (bilinear), the distance bias (trainable) and a gate per head; a carry logit
  // in every layer but the first (with carry). The same for a GPT and a Llama.
  std::int64_t attention_params(std::int64_t n_layer, std::int64_t n_embd, std::int64_t n_head) const;
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

// The Llama family's own fields of a run configuration's model section (model.arch "llama",
// issue 16; model/llama.h computes them). With arch "gpt" none of these keys may appear.
struct LlamaFields {
  std::int64_t n_kv_head = 0;          // key/value heads (grouped-query attention); 0: n_head
  std::int64_t intermediate_size = 0;  // SwiGLU width; 0: 8/3 n_embd rounded up to a multiple of 64
  double rope_theta = 10000.0;         // rotary base
  double rms_eps = 1e-5;               // RMSNorm epsilon
  bool qkv_bias = false;               // biases on q, k and v (Qwen2's layout; o has none)

  static const FieldTable<LlamaFields>& fields();
};

// A run configuration's "model" section: the GPT's fields (what every existing caller reads),
// plus `arch` and, for arch "llama", the Llama family's own. With arch "gpt" (the default) the
// JSON is GPTConfig's, byte for byte. With arch "llama" the section holds vocab_size,
// block_size, n_layer, n_head, n_embd, tied, cstde and LlamaFields' keys; GPT-only keys (dropout,
// bias) are errors naming them, as are Llama keys with arch "gpt".
struct ModelConfig : GPTConfig {
  std::string arch = "gpt";  // "gpt" (model/gpt.h) or "llama" (model/llama.h)
  LlamaFields llama;         // arch "llama" only

  ModelConfig() = default;
  ModelConfig(const GPTConfig& gpt) : GPTConfig(gpt) {}  // NOLINT: a GPT's shape is an arch "gpt" section

  bool is_llama() const { return arch == "llama"; }
  json to_json() const;
  static ModelConfig from_json(const json& j, const std::string& path);
  std::int64_t num_params() const;  // exact, for either architecture
  static std::string fields_help(const std::string& prefix);  // every key, for `train --help`
};

// The Hugging Face config (model/llama.h's LlamaConfig) of an arch "llama" model section:
// model_type "llama" ("qwen2" with qkv_bias), max_position_embeddings = block_size, head_dim =
// n_embd / n_head, no rope scaling. Errors name `path` for what a Llama cannot be (dropout > 0)
// and when arch is not "llama". CSTDE's section is no part of it (zoo::make_model passes it on).
formats::HfLlamaConfig llama_config(const ModelConfig& c, const std::string& path);

}  // namespace structlm::model
