// Llama-family config.json as transformers writes it; see hf_llama_config.h for what is accepted.
#include "formats/hf_llama_config.h"

#include <map>

#include "formats/config_json.h"

namespace structlm::formats {

using detail::parse_bounded;
using detail::size_field;

namespace {

// An optional positive number (rms_norm_eps, rope_theta, rope scaling factors).
double positive_number(const json& j, const char* key, double fallback, const std::string& name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number() || !(it->get<double>() > 0) || !(it->get<double>() < 1e300))
    fail(name, std::string("field '") + key + "' must be a positive number, not " + it->dump());
  return it->get<double>();
}

bool boolean(const json& j, const char* key, bool fallback, const std::string& name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail(name, std::string("field '") + key + "' must be true or false, not " + it->dump());
  return it->get<bool>();
}

// A token id, or the first of a list of them (Llama 3.1 lists several eos ids); -1 when absent.
std::int64_t token_id(const json& j, const char* key, const std::string& name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return -1;
  const json& v = it->is_array() && !it->empty() ? it->front() : *it;
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
    fail(name, std::string("field '") + key + "' must be a token id (or a list of them), not " + it->dump());
  return v.get<std::int64_t>();
}

void read_rope_scaling(const json& j, HfLlamaConfig& c, const std::string& name) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return;
  if (!it->is_object()) fail(name, "field 'rope_scaling' must be an object or null, not " + it->dump());
  const json& rs = *it;
  std::string type = rs.value("rope_type", rs.value("type", std::string()));
  if (type != "llama3")
    fail(name, "field 'rope_scaling' of type '" + type +
                   "' cannot be represented: only Llama 3's (rope_type \"llama3\") is computed");
  c.rope_factor = positive_number(rs, "factor", 0, name);
  c.rope_low_freq_factor = positive_number(rs, "low_freq_factor", 0, name);
  c.rope_high_freq_factor = positive_number(rs, "high_freq_factor", 0, name);
  if (c.rope_factor == 0 || c.rope_low_freq_factor == 0 || c.rope_high_freq_factor == 0)
    fail(name, "field 'rope_scaling' (llama3) needs factor, low_freq_factor and high_freq_factor");
  if (c.rope_high_freq_factor <= c.rope_low_freq_factor)
    fail(name, "field 'rope_scaling': high_freq_factor must exceed low_freq_factor");
  c.rope_original_max_positions = size_field(rs, "original_max_position_embeddings", name);
}

}  // namespace

HfLlamaConfig parse_hf_llama_config(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const json j = parse_bounded(data, size, name);
  if (!j.is_object()) fail(name, "expected a JSON object (a Hugging Face config.json)");
  HfLlamaConfig c;
  auto type = j.find("model_type");
  if (type == j.end() || !type->is_string() ||
      (*type != "llama" && *type != "mistral" && *type != "qwen2"))
    fail(name, "field 'model_type' = " + (type == j.end() ? std::string("(missing)") : type->dump()) +
                   ": expected \"llama\", \"mistral\" or \"qwen2\"");
  c.model_type = type->get<std::string>();
  c.vocab_size = size_field(j, "vocab_size", name);
  c.hidden_size = size_field(j, "hidden_size", name);
  c.intermediate_size = size_field(j, "intermediate_size", name);
  c.num_hidden_layers = size_field(j, "num_hidden_layers", name);
  c.num_attention_heads = size_field(j, "num_attention_heads", name);
  c.num_key_value_heads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                              ? size_field(j, "num_key_value_heads", name)
                              : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(name, "field 'num_key_value_heads' (" + std::to_string(c.num_key_value_heads) +
                   ") does not divide 'num_attention_heads' (" + std::to_string(c.num_attention_heads) + ")");
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = size_field(j, "head_dim", name);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      fail(name, "field 'hidden_size' (" + std::to_string(c.hidden_size) + ") is not divisible by " +
                     "'num_attention_heads' (" + std::to_string(c.num_attention_heads) + ") and no head_dim is given");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) fail(name, "head size " + std::to_string(c.head_dim) + " is odd: rotary positions rotate pairs");
  c.max_position_embeddings = size_field(j, "max_position_embeddings", name);
  c.rms_norm_eps = positive_number(j, "rms_norm_eps", 1e-6, name);
  c.rope_theta = positive_number(j, "rope_theta", 10000.0, name);
  read_rope_scaling(j, c, name);
  if (auto it = j.find("hidden_act"); it != j.end() && !it->is_null() && *it != "silu")
    fail(name, "field 'hidden_act' = " + it->dump() + " cannot be represented: the Llama MLP is SwiGLU (silu)");
  c.mlp_bias = boolean(j, "mlp_bias", false, name);
  if (c.model_type == "qwen2") {
    c.attention_bias = true;  // Qwen2's q, k and v projections always carry biases; o does not
    c.qkv_bias_only = true;
  } else {
    c.attention_bias = boolean(j, "attention_bias", false, name);
  }
  c.tie_word_embeddings = boolean(j, "tie_word_embeddings", false, name);
  // A sliding window shorter than the context changes which keys a query sees.
  const bool window_used = c.model_type != "qwen2" || boolean(j, "use_sliding_window", false, name);
  if (auto it = j.find("sliding_window"); window_used && it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) fail(name, "field 'sliding_window' must be an integer or null, not " + it->dump());
    if (it->get<std::int64_t>() < c.max_position_embeddings)
      fail(name, "field 'sliding_window' = " + it->dump() + " is shorter than max_position_embeddings (" +
                     std::to_string(c.max_position_embeddings) +
                     "): sliding-window attention cannot be represented");
  }
  c.bos_token_id = token_id(j, "bos_token_id", name);
  c.eos_token_id = token_id(j, "eos_token_id", name);
  return c;
}

json hf_llama_config_json(const HfLlamaConfig& c) {
  static const std::map<std::string, std::string> kClass = {
      {"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}};
  json j = {{"architectures", {kClass.at(c.model_type)}},
            {"model_type", c.model_type},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"head_dim", c.head_dim},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rms_norm_eps", c.rms_norm_eps},
            {"rope_theta", c.rope_theta},
            {"hidden_act", "silu"},
            {"mlp_bias", c.mlp_bias},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"rope_scaling", nullptr}};
  if (c.rope_factor > 0)
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_factor},
                         {"low_freq_factor", c.rope_low_freq_factor},
                         {"high_freq_factor", c.rope_high_freq_factor},
                         {"original_max_position_embeddings", c.rope_original_max_positions}};
  if (c.model_type != "qwen2") j["attention_bias"] = c.attention_bias;  // Qwen2: implied by the type
  if (c.model_type == "qwen2") j["use_sliding_window"] = false;
  if (c.model_type != "llama") j["sliding_window"] = nullptr;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  return j;
}

std::map<std::string, std::string> parse_safetensors_index(const std::uint8_t* data, std::size_t size,
                                                           const std::string& name) {
  const json j = parse_bounded(data, size, name);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(name, "expected an object with a 'weight_map' object (a safetensors index)");
  std::map<std::string, std::string> out;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it->is_string()) fail(name, "weight_map['" + it.key() + "'] must be a file name, not " + it->dump());
    const std::string file = it->get<std::string>();
    if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos || file == "." ||
        file == "..")
      fail(name, "weight_map['" + it.key() + "'] = \"" + file + "\" is not a file name in the checkpoint's folder");
    out[it.key()] = file;
  }
  if (out.empty()) fail(name, "weight_map is empty");
  return out;
}

}  // namespace structlm::formats
