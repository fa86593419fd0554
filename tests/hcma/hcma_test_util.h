// What the HCMA tests (align_test.cpp, switches_test.cpp, llama_align_test.cpp) build on: a tiny
// GPT and a tiny Llama of the same vocabulary and context, a Zipf-like token stream, and a small
// table with statistics and a hierarchy for the objective's terms.
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/shard.h"
#include "hcma/context_stats.h"
#include "hcma/hierarchy.h"
#include "hcma/objective.h"
#include "model/config.h"
#include "model/llama.h"

namespace structlm::hcma::test_support {

inline model::GPTConfig tiny(bool tied = true) {
  model::GPTConfig c;
  c.vocab_size = 40;
  c.block_size = 16;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 12;
  c.tied = tied;
  return c;
}

// The Llama family's block at the tiny GPT's vocabulary and context: grouped-query attention
// (4 query heads, 2 key/value heads), SwiGLU, RMSNorm, rotary positions.
inline model::LlamaConfig tiny_llama(bool tied = true) {
  model::LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = 40;
  c.hidden_size = 12;
  c.intermediate_size = 20;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 4;
  c.max_position_embeddings = 16;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = tied;
  return c;
}

// A Zipf-like stream over the vocabulary: a few frequent ids, a long tail, some ids never seen.
inline std::string write_stream(const std::string& path, std::size_t n, std::int64_t V, std::uint64_t seed = 3) {
  SplitMix64 rng(seed);
  std::vector<std::uint32_t> ids(n);
  for (auto& id : ids) {
    double u = rng.uniform();
    id = std::uint32_t(std::min<double>(double(V - 6), std::floor(std::pow(double(V - 5), u * u)) - 1 + (u > 0.999 ? 1 : 0)));
  }
  data::write_shard(path, ids, std::size_t(V));
  return path;
}

// A 120 x 5 table with random statistics (unseen tokens' means zero) and its 3 x 2 hierarchy.
struct Fixture {
  torch::Tensor E0;
  ContextStats stats;
  Hierarchy h;
  HcmaTermOptions opt;
};

inline Fixture fixture() {
  torch::manual_seed(4);
  Fixture f;
  const std::int64_t V = 120, d = 5;
  f.E0 = torch::randn({V, d}) * 0.1;
  f.stats.counts = torch::randint(0, 60, {V}, torch::kLong);
  f.stats.mean = torch::randn({V, d});
  f.stats.var = torch::rand({V, d});
  f.stats.mean.masked_fill_((f.stats.counts == 0).unsqueeze(1), 0);
  HierarchyOptions ho;
  ho.branching = 3;
  ho.depth = 2;
  ho.min_count = 8;
  f.h = build_hierarchy(f.E0, f.stats.mean, f.stats.counts, ho);
  f.opt.neighbours = 6;
  f.opt.kappa = 10;
  return f;
}

}  // namespace structlm::hcma::test_support
