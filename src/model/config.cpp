#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace structlm::model {

const FieldTable<CstdeConfig>& CstdeConfig::fields() {
  using C = CstdeConfig;
  static const auto t =
      FieldTable<C>("model.cstde field")
          .add("init", +[](C& c) -> bool& { return c.init; }, "structured embedding init (METHODS.md 1a)")
          .add("attention", +[](C& c) -> bool& { return c.attention; }, "dependency-weighted attention (1b)")
          .add("carry", +[](C& c) -> bool& { return c.carry; }, "carry D across layers (false: gamma = 1)")
          .add("rank", +[](C& c) -> std::int64_t& { return c.rank; }, "scorer rank r")
          .add("buckets", +[](C& c) -> std::int64_t& { return c.buckets; }, "relative-distance buckets")
          .add("max_distance", +[](C& c) -> std::int64_t& { return c.max_distance; }, "distances sharing the last bucket")
          .add("window", +[](C& c) -> std::int64_t& { return c.window; }, "co-occurrence window of the init")
          .add("epsilon", +[](C& c) -> double& { return c.epsilon; }, "log(D + epsilon) in the attention logits")
          .add("prior_init", +[](C& c) -> std::string& { return c.prior_init; },
               "distance bias at init: log_distance (b = -log(1 + distance), D informative at step 0) or zero (D near "
               "uniform: the old saddle)",
               "\"log_distance\" or \"zero\"", [](const std::string& v) { return v == "log_distance" || v == "zero"; })
          .add("beta_init", +[](C& c) -> double& { return c.beta_init; },
               "every head's prior weight beta at init (0: starts as the plain GPT, and U, V, bias, gamma get no "
               "gradient at step 0)",
               "a finite number", [](double v) { return std::isfinite(v); })
          .add("lr_mult", +[](C& c) -> double& { return c.lr_mult; },
               "learning-rate multiplier of CSTDE's own parameters (beta, gamma, U, V, bias)", "a number > 0",
               [](double v) { return std::isfinite(v) && v > 0; })
          .add("decay_uv", +[](C& c) -> bool& { return c.decay_uv; },
               "weight decay on the scorer's U and V (false: none of CSTDE's parameters decay; true: the old rule)")
          .add("init_tokens", +[](C& c) -> std::string& { return c.init_tokens; },
               "structured init counts: trained (the windows this run trains on) or split (the whole training split)",
               "\"trained\" or \"split\"", [](const std::string& v) { return v == "trained" || v == "split"; })
          .add("init_permute", +[](C& c) -> bool& { return c.init_permute; },
               "structured init's rows shuffled within frequency bins (floor log2 of the count): the control with the "
               "same spectrum and norms and the wrong token identities")
          .add("scorer", +[](C& c) -> std::string& { return c.scorer; },
               "D's scores: bilinear (u_i . v_j / sqrt(r) + distance bias: the method) or distance (the distance bias "
               "alone, no U and V: the recency control)",
               "\"bilinear\" or \"distance\"", [](const std::string& v) { return v == "bilinear" || v == "distance"; })
          .add("prior_trainable", +[](C& c) -> bool& { return c.prior_trainable; },
               "train the distance bias (false: frozen at its init; with scorer distance and prior_init "
               "log_distance, D fixed to the prior)");
  return t;
}

json CstdeConfig::to_json() const { return fields().to_json(*this); }

CstdeConfig CstdeConfig::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "model field 'cstde' must be an object");
  CstdeConfig c;
  fields().read(j, c, path);
  check(c.buckets >= 2, path, "model field 'cstde.buckets' must be >= 2");
  check(c.max_distance > c.buckets / 2, path, "model field 'cstde.max_distance' must be > buckets / 2");
  check(c.epsilon > 0 && c.epsilon < 1, path, "model field 'cstde.epsilon' must be in (0, 1)");
  check(!c.init_permute || c.init, path, "model field 'cstde.init_permute' permutes the structured init: it needs cstde.init true");
  return c;
}

const FieldTable<GPTConfig>& GPTConfig::fields() {
  using C = GPTConfig;
  static const auto t =
      FieldTable<C>("model field")
          .add("vocab_size", +[](C& c) -> std::int64_t& { return c.vocab_size; }, "embedding rows (train: the tokenizer's size when unset)")
          .add("block_size", +[](C& c) -> std::int64_t& { return c.block_size; }, "context length")
          .add("n_layer", +[](C& c) -> std::int64_t& { return c.n_layer; }, "transformer blocks")
          .add("n_head", +[](C& c) -> std::int64_t& { return c.n_head; }, "attention heads")
          .add("n_embd", +[](C& c) -> std::int64_t& { return c.n_embd; }, "width")
          .add("dropout", +[](C& c) -> double& { return c.dropout; }, "dropout probability")
          .add("bias", +[](C& c) -> bool& { return c.bias; }, "biases in linear layers and LayerNorms")
          .add("tied", +[](C& c) -> bool& { return c.tied; }, "output matrix tied to the input embeddings");
  return t;
}

json GPTConfig::to_json() const {
  json j = fields().to_json(*this);
  if (cstde.any()) j["cstde"] = cstde.to_json();
  return j;
}

GPTConfig GPTConfig::from_json(const json& j, const std::string& path) {
  GPTConfig c;
  fields().read(j, c, path, {"cstde"});
  if (j.contains("cstde")) c.cstde = CstdeConfig::from_json(j["cstde"], path);
  // Every size is positive and below a bound far above any model this code trains, so that
  // products like num_params() and the sizes torch is asked to allocate cannot overflow (found by
  // fuzzing the config reader). CSTDE's sizes are bounded only when CSTDE is on.
  constexpr std::int64_t kNoBound = std::numeric_limits<std::int64_t>::max();
  const bool cstde_on = c.cstde.attention || c.cstde.init;
  const struct {
    std::int64_t value;
    const char* name;
    std::int64_t max;
  } sizes[] = {
      {c.vocab_size, "vocab_size", std::int64_t(1) << 24},
      {c.block_size, "block_size", std::int64_t(1) << 20},
      {c.n_layer, "n_layer", 4096},
      {c.n_embd, "n_embd", std::int64_t(1) << 16},
      {c.n_head, "n_head", std::max<std::int64_t>(c.n_embd, 1)},
      {c.cstde.rank, "cstde.rank", cstde_on ? std::max<std::int64_t>(c.n_embd, 1) : kNoBound},
      {c.cstde.buckets, "cstde.buckets", cstde_on ? 4096 : kNoBound},
      {c.cstde.max_distance, "cstde.max_distance", cstde_on ? std::int64_t(1) << 20 : kNoBound},
      {c.cstde.window, "cstde.window", cstde_on ? 4096 : kNoBound},
  };
  for (const auto& f : sizes) {
    check(f.value > 0, path, std::string("model field '") + f.name + "' must be > 0, got " + std::to_string(f.value));
    check(f.value <= f.max, path, std::string("model field '") + f.name + "' is " + std::to_string(f.value) +
                                      ", more than the " + std::to_string(f.max) + " structlm supports");
  }
  check(c.n_embd % c.n_head == 0, path,
        "model field 'n_embd' (" + std::to_string(c.n_embd) + ") must be divisible by 'n_head' (" +
            std::to_string(c.n_head) + ")");
  check(c.dropout >= 0 && c.dropout < 1, path, "model field 'dropout' must be in [0, 1)");
  return c;
}

std::int64_t GPTConfig::num_params() const {
  const std::int64_t C = n_embd, b = bias ? 1 : 0;
  std::int64_t ln = C + b * C;
  std::int64_t attn = (C * 3 * C + b * 3 * C) + (C * C + b * C);
  std::int64_t mlp = (C * 4 * C + b * 4 * C) + (4 * C * C + b * C);
  std::int64_t block = 2 * ln + attn + mlp;
  std::int64_t n = vocab_size * C + block_size * C + n_layer * block + ln;
  if (!tied) n += vocab_size * C;  // lm_head, no bias
  return n + cstde.attention_params(n_layer, C, n_head);
}

std::int64_t CstdeConfig::attention_params(std::int64_t n_layer, std::int64_t n_embd, std::int64_t n_head) const {
  if (!attention) return 0;
  // Per layer: the scorer's U and V (C x r; not with scorer "distance"), its distance-bucket
  // bias (trainable unless prior_trainable is false) and a gate beta per head; every layer but
  // the first also has a carry logit (the first has nothing to carry).
  const std::int64_t uv = scorer == "bilinear" ? 2 * n_embd * rank : 0;
  const std::int64_t bias = prior_trainable ? buckets : 0;
  return n_layer * (uv + bias + n_head) + (carry ? n_layer - 1 : 0);
}

// ---- the run configuration's model section: arch "gpt" or "llama" ---------------------------

const FieldTable<LlamaFields>& LlamaFields::fields() {
  using C = LlamaFields;
  static const auto t =
      FieldTable<C>("model field")
          .add("n_kv_head", +[](C& c) -> std::int64_t& { return c.n_kv_head; },
               "llama: key/value heads, grouped-query attention (0: n_head)", ">= 0 (0: n_head)", non_negative)
          .add("intermediate_size", +[](C& c) -> std::int64_t& { return c.intermediate_size; },
               "llama: SwiGLU width (0: 8/3 n_embd rounded up to a multiple of 64)", ">= 0", non_negative)
          .add("rope_theta", +[](C& c) -> double& { return c.rope_theta; }, "llama: rotary base theta", "a number > 0",
               [](double v) { return std::isfinite(v) && v > 0; })
          .add("rms_eps", +[](C& c) -> double& { return c.rms_eps; }, "llama: RMSNorm epsilon", "in (0, 1)",
               [](double v) { return v > 0 && v < 1; })
          .add("qkv_bias", +[](C& c) -> bool& { return c.qkv_bias; }, "llama: biases on q, k and v (Qwen2's layout)");
  return t;
}

namespace {

// CSTDE's keys of the structured init of the input table. A Llama without CSTDE's attention
// reads only these (and writes only these, so its saved config is what it was before the
// attention came to the Llama); with the attention on it reads and writes every cstde key.
const std::vector<std::string>& llama_cstde_keys() {
  static const std::vector<std::string> k = {"init", "window", "init_tokens", "init_permute"};
  return k;
}

// The GPT's keys an arch "llama" section shares (the others are the GPT's own).
const std::vector<std::string>& llama_shared_keys() {
  static const std::vector<std::string> k = {"vocab_size", "block_size", "n_layer", "n_head", "n_embd", "tied"};
  return k;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// LlamaFields with its "0: derived" defaults filled in from the shared fields.
LlamaFields resolved(const ModelConfig& c) {
  LlamaFields l = c.llama;
  if (l.n_kv_head == 0) l.n_kv_head = c.n_head;
  if (l.intermediate_size == 0) {
    const std::int64_t swiglu = (8 * c.n_embd + 2) / 3;  // ceil(8/3 n_embd)
    l.intermediate_size = (swiglu + 63) / 64 * 64;
  }
  return l;
}

// What a Llama of this section cannot be, named by key. `path` names the file.
void check_llama(const ModelConfig& c, const std::string& path) {
  check(c.dropout == 0, path, "model field 'dropout' is the GPT's: model.arch \"llama\" has no dropout");
  const LlamaFields l = resolved(c);
  check(l.n_kv_head > 0 && l.n_kv_head <= c.n_head && c.n_head % l.n_kv_head == 0, path,
        "model field 'n_kv_head' (" + std::to_string(l.n_kv_head) + ") must divide 'n_head' (" + std::to_string(c.n_head) + ")");
  check(c.n_head > 0 && c.n_embd % c.n_head == 0 && (c.n_embd / c.n_head) % 2 == 0, path,
        "model field 'n_embd' / 'n_head' (" + std::to_string(c.n_embd) + " / " + std::to_string(c.n_head) +
            ") must be an even head size: rotary positions rotate pairs");
  check(l.intermediate_size > 0 && l.intermediate_size <= (std::int64_t(1) << 20), path,
        "model field 'intermediate_size' is " + std::to_string(l.intermediate_size) + ", outside 1.." +
            std::to_string(std::int64_t(1) << 20));
  check(std::isfinite(l.rope_theta) && l.rope_theta > 0, path, "model field 'rope_theta' must be a number > 0");
  check(l.rms_eps > 0 && l.rms_eps < 1, path, "model field 'rms_eps' must be in (0, 1)");
}

}  // namespace

json ModelConfig::to_json() const {
  if (!is_llama()) return GPTConfig::to_json();
  json j = json::object();
  const json gpt = GPTConfig::fields().to_json(*this);
  for (const auto& k : llama_shared_keys()) j[k] = gpt[k];
  if (cstde.attention) {
    j["cstde"] = cstde.to_json();
  } else if (cstde.init) {
    const json all = cstde.to_json();
    j["cstde"] = json::object();
    for (const auto& k : llama_cstde_keys()) j["cstde"][k] = all[k];
  }
  j["arch"] = arch;
  const json own = LlamaFields::fields().to_json(resolved(*this));
  for (auto it = own.begin(); it != own.end(); ++it) j[it.key()] = it.value();
  return j;
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "field 'model' must be an object");
  ModelConfig c;
  if (auto it = j.find("arch"); it != j.end() && !it->is_null()) {
    check(it->is_string() && (*it == "gpt" || *it == "llama"), path,
          "model field 'arch' must be \"gpt\" or \"llama\", not " + it->dump());
    c.arch = it->get<std::string>();
  }
  json rest = j;
  rest.erase("arch");
  const std::vector<std::string> own_keys = LlamaFields::fields().names();
  if (!c.is_llama()) {
    for (const auto& k : own_keys)
      if (rest.contains(k))
        fail(path, "model field '" + k + "' is a Llama field: it needs model.arch \"llama\" (the model is a GPT)");
    static_cast<GPTConfig&>(c) = GPTConfig::from_json(rest, path);
    return c;
  }
  // CSTDE: every key with the attention on (as the GPT's); without it, the structured init's
  // only, and an attention key is named rather than silently unread. Unknown keys are refused by
  // CstdeConfig::from_json, naming them.
  json llama_cstde;
  if (auto it = rest.find("cstde"); it != rest.end()) {
    check(it->is_object(), path, "model field 'cstde' must be an object");
    const bool attention =
        it->contains("attention") && (*it)["attention"].is_boolean() && (*it)["attention"].get<bool>();
    const auto known = CstdeConfig::fields().names();
    for (auto k = it->begin(); k != it->end() && !attention; ++k)
      if (contains(known, k.key()) && !contains(llama_cstde_keys(), k.key()) && k.key() != "attention")
        fail(path, "model field 'cstde." + k.key() + "' belongs to CSTDE's attention, which is off: it needs "
                   "cstde.attention true (without it a Llama reads cstde.init, window, init_tokens, init_permute)");
    llama_cstde = *it;
    rest.erase("cstde");
  }
  if (rest.contains("dropout"))
    fail(path, "model field 'dropout' is the GPT's: model.arch \"llama\" has no dropout");
  if (rest.contains("bias"))
    fail(path, "model field 'bias' is the GPT's: model.arch \"llama\" has no LayerNorm or MLP biases (see qkv_bias)");
  std::vector<std::string> known = {"arch", "cstde"};
  known.insert(known.end(), llama_shared_keys().begin(), llama_shared_keys().end());
  known.insert(known.end(), own_keys.begin(), own_keys.end());
  check_known_keys(j, known, path);
  json shared = json::object(), own = json::object();
  for (auto it = rest.begin(); it != rest.end(); ++it) (contains(own_keys, it.key()) ? own : shared)[it.key()] = it.value();
  // Sizes, bounds and n_embd % n_head as the GPT's; then the Llama's own.
  // The cstde section goes with them, so its sizes get the GPT's bounds too.
  if (!llama_cstde.is_null()) shared["cstde"] = llama_cstde;
  static_cast<GPTConfig&>(c) = GPTConfig::from_json(shared, path);
  c.dropout = 0;
  c.bias = false;
  if (!llama_cstde.is_null())
    check(c.cstde.window > 0 && c.cstde.window <= 4096, path, "model field 'cstde.window' must be in 1..4096");
  LlamaFields::fields().read(own, c.llama, path);
  check_llama(c, path);
  c.llama = resolved(c);
  return c;
}

std::int64_t ModelConfig::num_params() const {
  if (!is_llama()) return GPTConfig::num_params();
  const LlamaFields l = resolved(*this);
  const std::int64_t C = n_embd, d = n_embd / n_head, q = n_head * d, kv = l.n_kv_head * d, I = l.intermediate_size;
  const std::int64_t attn = C * q + C * kv * 2 + q * C + (l.qkv_bias ? q + 2 * kv : 0);
  const std::int64_t block = attn + 3 * C * I + 2 * C;  // SwiGLU's three matrices, two RMSNorms
  std::int64_t n = vocab_size * C + n_layer * block + C;
  if (!tied) n += vocab_size * C;
  return n + cstde.attention_params(n_layer, C, n_head);
}

std::string ModelConfig::fields_help(const std::string& prefix) {
  return "  " + prefix +
         "arch  gpt (default) or llama (RMSNorm, rotary, SwiGLU, grouped-query attention; takes the llama: keys, "
         "not dropout or bias)\n" +
         GPTConfig::fields().help(prefix) + CstdeConfig::fields().help(prefix + "cstde.") +
         LlamaFields::fields().help(prefix);
}

formats::HfLlamaConfig llama_config(const ModelConfig& c, const std::string& path) {
  check(c.is_llama(), path, "model.arch is \"" + c.arch + "\", not \"llama\"");
  check_llama(c, path);
  const LlamaFields l = resolved(c);
  formats::HfLlamaConfig h;
  h.model_type = l.qkv_bias ? "qwen2" : "llama";  // transformers' class with q/k/v biases and no o bias
  h.vocab_size = c.vocab_size;
  h.hidden_size = c.n_embd;
  h.intermediate_size = l.intermediate_size;
  h.num_hidden_layers = c.n_layer;
  h.num_attention_heads = c.n_head;
  h.num_key_value_heads = l.n_kv_head;
  h.head_dim = c.n_embd / c.n_head;
  h.max_position_embeddings = c.block_size;
  h.rms_norm_eps = l.rms_eps;
  h.rope_theta = l.rope_theta;
  h.attention_bias = l.qkv_bias;
  h.qkv_bias_only = l.qkv_bias;
  h.mlp_bias = false;
  h.tie_word_embeddings = c.tied;
  return h;
}

}  // namespace structlm::model
