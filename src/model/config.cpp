#include "model/config.h"

namespace structlm::model {

json GPTConfig::to_json() const {
  return json{{"vocab_size", vocab_size}, {"block_size", block_size}, {"n_layer", n_layer},
              {"n_head", n_head},         {"n_embd", n_embd},         {"dropout", dropout},
              {"bias", bias},             {"tied", tied}};
}

GPTConfig GPTConfig::from_json(const json& j, const std::string& path) {
  check_known_keys(j, {"vocab_size", "block_size", "n_layer", "n_head", "n_embd", "dropout", "bias", "tied"},
                   path);
  GPTConfig c;
  read_field(j, "vocab_size", c.vocab_size, path);
  read_field(j, "block_size", c.block_size, path);
  read_field(j, "n_layer", c.n_layer, path);
  read_field(j, "n_head", c.n_head, path);
  read_field(j, "n_embd", c.n_embd, path);
  read_field(j, "dropout", c.dropout, path);
  read_field(j, "bias", c.bias, path);
  read_field(j, "tied", c.tied, path);
  auto positive = [&](std::int64_t v, const char* name) {
    check(v > 0, path, std::string("model field '") + name + "' must be > 0, got " + std::to_string(v));
  };
  positive(c.vocab_size, "vocab_size");
  positive(c.block_size, "block_size");
  positive(c.n_layer, "n_layer");
  positive(c.n_head, "n_head");
  positive(c.n_embd, "n_embd");
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
  return n;
}

}  // namespace structlm::model
