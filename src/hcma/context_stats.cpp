#include "hcma/context_stats.h"

#include "core/error.h"
#include "core/progress.h"

namespace structlm::hcma {

int default_layer(int n_layer) { return (n_layer + 1) / 2; }
int default_layer(const model::GPTConfig& c) { return default_layer(int(c.n_layer)); }

ContextStats collect_context_stats(model::GPT& model, const data::TokenStream& stream, int layer,
                                   std::size_t max_tokens, int batch_size) {
  return collect_context_stats(*model, stream, layer, max_tokens, batch_size);
}

ContextStats collect_context_stats(model::CausalLM& model, const data::TokenStream& stream, int layer,
                                   std::size_t max_tokens, int batch_size, std::int64_t context) {
  const int n_layer = model.num_layers();
  if (layer < 0) layer = default_layer(n_layer);
  check(layer <= n_layer, "calibration", "layer " + std::to_string(layer) + " is beyond the model's " +
                                             std::to_string(n_layer) + " layers");
  check(batch_size > 0, "calibration", "batch size must be positive");
  std::size_t n = stream.size();
  if (max_tokens > 0) n = std::min(n, max_tokens);
  check(context >= 0 && context <= model.context_length(), "calibration",
        "window of " + std::to_string(context) + " tokens is beyond the model's context " + std::to_string(model.context_length()));
  const std::int64_t T = context > 0 ? context : model.context_length(), V = model.vocabulary_rows(), d = model.width();
  check(n >= 1, "calibration", "the calibration corpus has no tokens");

  torch::NoGradGuard no_grad;
  torch::nn::Module& module = model.module();
  const bool was_training = module.is_training();
  module.eval();
  const auto device = module.parameters().front().device();
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor sum = torch::zeros({V, d}, f64), sumsq = torch::zeros({V, d}, f64);
  torch::Tensor counts = torch::zeros({V}, torch::kLong);

  Progress progress("context stats", std::int64_t(n));
  std::size_t done = 0;
  data::for_each_window_batch(stream, n, T, batch_size, 0, [&](std::int64_t rows, std::int64_t len,
                                                             const std::vector<std::int64_t>& buf) {
    for (auto id : buf)
      if (id < 0 || id >= V)
        fail("calibration", "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
    auto idx = torch::from_blob(const_cast<std::int64_t*>(buf.data()), {rows, len}, torch::kLong).clone();
    auto h = model.residual_stream(idx.to(device), layer).reshape({rows * len, d}).to(torch::kCPU, torch::kFloat64);
    auto flat = idx.reshape({-1});
    sum.index_add_(0, flat, h);
    sumsq.index_add_(0, flat, h * h);
    counts.index_add_(0, flat, torch::ones_like(flat));
    done += std::size_t(rows * len);
    progress.update(std::int64_t(done));
  });
  progress.finish();
  module.train(was_training);

  ContextStats s;
  s.layer = layer;
  s.tokens = std::int64_t(n);
  s.counts = counts;
  auto c = counts.to(torch::kFloat64).clamp_min(1).unsqueeze(1);
  auto mean = sum / c;
  // Unbiased variance needs two occurrences; a single one gets 0 (no spread observed).
  auto var = ((sumsq - c * mean * mean) / (c - 1).clamp_min(1)).clamp_min(0);
  var.masked_fill_((counts < 2).unsqueeze(1), 0);
  s.mean = mean.to(torch::kFloat32);
  s.var = var.to(torch::kFloat32);
  return s;
}

}  // namespace structlm::hcma
