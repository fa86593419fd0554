// GPT-2 config.json as transformers writes it; see hf_config.h for what is accepted.
#include "formats/hf_config.h"

#include <cmath>

#include "core/json.h"

namespace structlm::formats {

namespace {

struct Problem {
  std::string what;
};

json parse_bounded(const std::uint8_t* data, std::size_t size, const std::string& name) {
  // A config is a flat object with a few small arrays/objects: deep nesting is refused inside
  // the parser, before it can cost anything.
  auto cb = [](int depth, json::parse_event_t, json&) {
    if (depth > 8) throw Problem{"JSON is nested deeper than a config can be"};
    return true;
  };
  try {
    return json::parse(data, data + size, cb);
  } catch (const Problem& p) {
    fail(name, p.what);
  } catch (const json::parse_error& e) {
    fail(name, "not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    fail(name, std::string("not valid JSON (") + e.what() + ")");
  }
}

std::int64_t size_field(const json& j, const char* key, const std::string& name, const char* fallback = nullptr) {
  auto it = j.find(key);
  if ((it == j.end() || it->is_null()) && fallback) it = j.find(fallback);
  if (it == j.end() || it->is_null()) fail(name, std::string("field '") + key + "' is missing");
  if (!it->is_number_integer()) fail(name, std::string("field '") + key + "' must be an integer, not " + it->dump());
  const auto v = it->get<std::int64_t>();
  if (v < 1 || v > 0x7fffffff)
    fail(name, std::string("field '") + key + "' = " + std::to_string(v) + " is outside 1..2^31-1");
  return v;
}

// A field that, when present, must have the one value structlm's GPT computes.
void require_value(const json& j, const char* key, const json& want, const std::string& name, const char* why) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || *it == want) return;
  fail(name, std::string("field '") + key + "' = " + it->dump() + " cannot be represented: " + why);
}

}  // namespace

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
