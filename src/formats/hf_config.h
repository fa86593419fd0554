// Hugging Face GPT-2 `config.json` (transformers' GPT2Config), the fields that fix the shape and
// the arithmetic of the model. No torch. The parser treats the bytes as hostile: bad JSON, wrong
// types, sizes out of range and settings structlm's GPT does not compute (another activation, a
// LayerNorm epsilon other than 1e-5, an MLP width other than 4 x n_embd, scaled attention
// variants) are errors naming the file and the field, so a model is never silently changed.
#pragma once
#include <cstdint>
#include <string>

namespace structlm::formats {

struct HfGpt2Config {
  std::int64_t vocab_size = 0;
  std::int64_t n_positions = 0;  // context length (older files call it n_ctx)
  std::int64_t n_embd = 0;
  std::int64_t n_layer = 0;
  std::int64_t n_head = 0;
  bool tie_word_embeddings = true;
  std::int64_t eos_token_id = -1;  // also bos; -1: absent (not read back when parsing)
};

// Every size must be in 1..2^31-1 and n_embd divisible by n_head.
HfGpt2Config parse_hf_gpt2_config(const std::uint8_t* data, std::size_t size, const std::string& name);
// config.json text (2-space indented) that transformers' GPT2LMHeadModel loads as this model.
std::string hf_gpt2_config_json(const HfGpt2Config& c);

}  // namespace structlm::formats
