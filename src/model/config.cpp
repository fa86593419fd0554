#include "model/config.h"

#include <algorithm>
#include <limits>

namespace structlm::model {

const FieldTable<CstdeConfig>& CstdeConfig::fields() {
  using C = CstdeConfig;
  static const auto t =
      FieldTable<C>("model field")
          .add("init", +[](C& c) -> bool& { return c.init; }, "structured embedding init (METHODS.md 1a)")
          .add("attention", +[](C& c) -> bool& { return c.attention; }, "dependency-weighted attention (1b)")
          .add("carry", +[](C& c) -> bool& { return c.carry; }, "carry D across layers (false: gamma = 1)")
          .add("rank", +[](C& c) -> std::int64_t& { return c.rank; }, "scorer rank r")
          .add("buckets", +[](C& c) -> std::int64_t& { return c.buckets; }, "relative-distance buckets")
          .add("max_distance", +[](C& c) -> std::int64_t& { return c.max_distance; }, "distances sharing the last bucket")
          .add("window", +[](C& c) -> std::int64_t& { return c.window; }, "co-occurrence window of the init")
          .add("epsilon", +[](C& c) -> double& { return c.epsilon; }, "log(D + epsilon) in the attention logits");
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
  if (cstde.attention) {
    // Per layer: the scorer's U and V (C x r), its distance-bucket bias and a gate beta per head;
    // every layer but the first also has a carry logit (the first has nothing to carry).
    n += n_layer * (2 * C * cstde.rank + cstde.buckets + n_head);
    if (cstde.carry) n += n_layer - 1;
  }
  return n;
}

}  // namespace structlm::model
