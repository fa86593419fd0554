#include "align/context_stats.h"

#include "core/error.h"
#include "core/progress.h"

namespace structlm::align {

int default_layer(const model::GPTConfig& c) { return int((c.n_layer + 1) / 2); }

ContextStats collect_context_stats(model::GPT& model, const data::TokenStream& stream, int layer,
                                   std::size_t max_tokens, int batch_size) {
  const auto& cfg = model->config();
  if (layer < 0) layer = default_layer(cfg);
  check(layer <= cfg.n_layer, "calibration", "layer " + std::to_string(layer) + " is beyond the model's " +
                                                   std::to_string(cfg.n_layer) + " layers");
  check(batch_size > 0, "calibration", "batch size must be positive");
  std::size_t n = stream.size();
  if (max_tokens > 0) n = std::min(n, max_tokens);
  const std::int64_t T = cfg.block_size, V = cfg.vocab_size, d = cfg.n_embd;
  check(n >= 1, "calibration", "the calibration corpus has no tokens");

  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const auto device = model->parameters().front().device();
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor sum = torch::zeros({V, d}, f64), sumsq = torch::zeros({V, d}, f64);
  torch::Tensor counts = torch::zeros({V}, torch::kLong);

  Progress progress("context stats", std::int64_t(n));
  std::vector<std::int64_t> buf;
  std::size_t start = 0;
  while (start < n) {
    // Rows of equal length: full windows, then the remainder alone.
    const std::int64_t len = std::int64_t(std::min<std::size_t>(T, n - start));
    std::int64_t rows = 0;
    buf.clear();
    while (rows < batch_size && start < n && std::int64_t(std::min<std::size_t>(T, n - start)) == len) {
      buf.resize(std::size_t(rows + 1) * std::size_t(len));
      stream.read(start, std::size_t(len), buf.data() + std::size_t(rows * len));
      start += std::size_t(len);
      ++rows;
    }
    for (auto id : buf)
      if (id < 0 || id >= V)
        fail("calibration", "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
    auto idx = torch::from_blob(buf.data(), {rows, len}, torch::kLong).clone();
    auto h = model->hidden_states(idx.to(device), layer).reshape({rows * len, d}).to(torch::kCPU, torch::kFloat64);
    auto flat = idx.reshape({-1});
    sum.index_add_(0, flat, h);
    sumsq.index_add_(0, flat, h * h);
    counts.index_add_(0, flat, torch::ones_like(flat));
    progress.update(std::int64_t(start));
  }
  progress.finish();
  model->train(was_training);

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

}  // namespace structlm::align
