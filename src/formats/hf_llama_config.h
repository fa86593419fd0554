// Hugging Face config.json of the Llama family (transformers' LlamaConfig, MistralConfig,
// Qwen2Config; issue 16): the fields that fix the shape and the arithmetic of a pre-RMSNorm
// decoder with rotary positions, SwiGLU and grouped-query attention. No torch. Hostile input, as
// formats/hf_config.h: bad JSON, wrong types, sizes out of range, and settings that this reading
// does not compute (another activation, rope scaling other than Llama 3's, a sliding window
// shorter than the context) are errors naming the file and the field, never a silent change.
// And the index of a sharded checkpoint (model.safetensors.index.json).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "core/json.h"

namespace structlm::formats {

struct HfLlamaConfig {
  std::string model_type;  // "llama", "mistral" or "qwen2"
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;  // SwiGLU width
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;  // GQA; absent: num_attention_heads (multi-head)
  std::int64_t head_dim = 0;             // absent: hidden_size / num_attention_heads
  std::int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  // Llama 3's rope scaling ("rope_type": "llama3"); factor 0: none.
  double rope_factor = 0, rope_low_freq_factor = 0, rope_high_freq_factor = 0;
  std::int64_t rope_original_max_positions = 0;
  bool attention_bias = false;  // q/k/v/o biases (llama's attention_bias); Qwen2: q/k/v biases, no o
  bool qkv_bias_only = false;   // Qwen2's layout: biases on q, k, v but not o
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  std::int64_t bos_token_id = -1, eos_token_id = -1;  // -1: absent (a list of eos ids: the first)
};

// Sizes in 1..2^31-1; num_key_value_heads divides num_attention_heads; head_dim even (rotary
// pairs); hidden_act "silu".
HfLlamaConfig parse_hf_llama_config(const std::uint8_t* data, std::size_t size, const std::string& name);

// The config.json transformers reads back as the same model (architectures, model_type and every
// field above; rope_scaling null or Llama 3's; bos/eos only when set): parse(write(c)) == c.
// What structlm stores as a Llama checkpoint's "config" and what `export` writes.
json hf_llama_config_json(const HfLlamaConfig& c);

// model.safetensors.index.json: tensor name -> shard file name. Shard names must be plain file
// names in the same folder (no '/', no '..'); an empty weight_map is an error.
std::map<std::string, std::string> parse_safetensors_index(const std::uint8_t* data, std::size_t size,
                                                           const std::string& name);

}  // namespace structlm::formats
