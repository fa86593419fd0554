// GPT-2 config.json as transformers writes it; see hf_config.h for what is accepted.
#include "formats/hf_config.h"

#include <cmath>

#include "formats/config_json.h"

namespace structlm::formats {

using detail::parse_bounded;
using detail::require_value;
using detail::size_field;

HfGpt2Config parse_hf_gpt2_config(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const json j = parse_bounded(data, size, name);
  if (!j.is_object()) fail(name, "expected a JSON object (a Hugging Face config.json)");
  require_value(j, "model_type", "gpt2", name, "only GPT-2 models are supported");
  HfGpt2Config c;
  c.vocab_size = size_field(j, "vocab_size", name);
  c.n_positions = size_field(j, "n_positions", name, "n_ctx");
  c.n_embd = size_field(j, "n_embd", name);
  c.n_layer = size_field(j, "n_layer", name);
  c.n_head = size_field(j, "n_head", name);
  if (c.n_embd % c.n_head != 0)
    fail(name, "field 'n_embd' (" + std::to_string(c.n_embd) + ") is not divisible by 'n_head' (" +
                   std::to_string(c.n_head) + ")");
  if (auto it = j.find("tie_word_embeddings"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) fail(name, "field 'tie_word_embeddings' must be true or false");
    c.tie_word_embeddings = it->get<bool>();
  }
  if (auto it = j.find("activation_function"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || (*it != "gelu_new" && *it != "gelu_pytorch_tanh"))
      fail(name, "field 'activation_function' = " + it->dump() +
                     " cannot be represented: structlm's GPT uses GELU with the tanh approximation (gelu_new)");
  }
  if (auto it = j.find("layer_norm_epsilon"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || std::fabs(it->get<double>() - 1e-5) > 1e-11)
      fail(name, "field 'layer_norm_epsilon' = " + it->dump() + " cannot be represented: structlm's LayerNorm uses 1e-5");
  }
  if (auto it = j.find("n_inner"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() != 4 * c.n_embd)
      fail(name, "field 'n_inner' = " + it->dump() + " cannot be represented: structlm's MLP is 4 x n_embd wide");
  }
  require_value(j, "scale_attn_weights", true, name, "structlm's attention divides scores by sqrt(head size)");
  require_value(j, "scale_attn_by_inverse_layer_idx", false, name, "structlm's attention does not scale by layer");
  return c;
}

std::string hf_gpt2_config_json(const HfGpt2Config& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {"GPT2LMHeadModel"};
  j["model_type"] = "gpt2";
  j["vocab_size"] = c.vocab_size;
  j["n_positions"] = c.n_positions;
  j["n_ctx"] = c.n_positions;
  j["n_embd"] = c.n_embd;
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["n_inner"] = nullptr;
  j["activation_function"] = "gelu_new";
  j["layer_norm_epsilon"] = 1e-5;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["scale_attn_weights"] = true;
  if (c.eos_token_id >= 0) {
    j["bos_token_id"] = c.eos_token_id;
    j["eos_token_id"] = c.eos_token_id;
  }
  return j.dump(2) + "\n";
}

}  // namespace structlm::formats
