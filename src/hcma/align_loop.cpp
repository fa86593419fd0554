#include "hcma/align_loop.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>

#include "hcma/align.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"

namespace structlm::hcma {

namespace F = torch::nn::functional;

namespace {

std::string format_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The logged terms: the JSONL log (rewritten whole at every line, atomically), the report's
// copy and the progress line.
struct TermLog {
  std::string text;
  json lines = json::array();

  void add(const AlignRun& run, Progress& progress, int step, double lr, const std::map<std::string, double>& values) {
    double total = 0;
    for (auto& [k, v] : values) total += v;
    json line = {{"step", step}, {"lr", lr}, {"total", total}, {"elapsed_s", seconds_since(run.t0)}};
    std::string fields = "loss " + format_fixed(total, 4);
    for (auto& [k, v] : values) {
      line[k] = v;
      fields += " | " + k + " " + format_fixed(v, 4);
    }
    lines.push_back(line);
    if (!run.log_path.empty()) write_file_atomic(run.log_path, text += line.dump() + "\n");
    progress.update(step + 1, fields);
  }
};

}  // namespace

torch::Tensor lm_loss(LoopState& s, std::optional<double> noise) {
  const auto& cfg = s.net->config();
  const auto& loop = s.run.options.loop;
  s.run.calib.random_batch(s.run.options.seed, s.step, loop.batch_size, int(cfg.block_size), s.batch.data());
  auto b = torch::from_blob(s.batch.data(), {loop.batch_size, cfg.block_size + 1}, torch::kLong).to(s.param.device());
  auto x = b.slice(1, 0, cfg.block_size), y = b.slice(1, 1);
  auto emb = F::embedding(x, s.param);
  if (noise) {
    // A Gaussian direction per position, scaled to `noise` times the mean row norm.
    auto z = torch::randn(emb.sizes(), s.gen, emb.options());
    emb = emb + z / z.norm(2, -1, true).clamp_min(1e-12) * (*noise * s.mean_norm);
  }
  torch::Tensor logits;
  {
    // A region per step: autocast caches the bf16 copy of a leaf that requires grad (E), and E
    // changes at every step; leaving the outermost guard drops that copy.
    model::AutocastGuard autocast(s.run.precision.precision, s.param.device());
    logits = s.net->forward_embeddings(emb);
  }
  // Log-softmax over the vocabulary in fp32, as the trainer's loss (GPTImpl::loss).
  logits = logits.to(torch::kFloat32);
  return F::cross_entropy(logits.view({-1, logits.size(-1)}), y.reshape({-1}));
}

void TrainedMethod::prepare(AlignRun& run) { run.counts = calibration_counts(run); }

torch::Tensor TrainedMethod::align(AlignRun& run) {
  prepare(run);
  const auto& opt = run.options.loop;
  const auto& cfg = run.model->config();
  const auto device = run.model->parameters().front().device();
  LoopState s(run);
  if (uses_lm()) s.net = with_input_embeddings(run.model, run.E0);
  s.param = run.E0.clone().to(device).set_requires_grad(true);
  const double rms = run.E0.pow(2).mean().sqrt().item<double>();
  const double lr0 = opt.lr * rms;
  s.mean_norm = run.E0.norm(2, 1).mean().item<double>();
  torch::optim::Adam adam({s.param}, torch::optim::AdamOptions(lr0));
  s.gen = at::make_generator<at::CPUGeneratorImpl>(run.options.seed);
  s.batch.resize(std::size_t(opt.batch_size) * std::size_t(cfg.block_size + 1));
  if (uses_lm())
    check(run.calib.size() > std::size_t(cfg.block_size), "calibration",
          "has " + std::to_string(run.calib.size()) + " tokens, fewer than one window of block_size + 1");
  TermLog log;
  std::map<std::string, double> loop_s;  // where the loop's time goes (the report's time_s.loop)
  Progress progress("align " + run.options.method, opt.steps);
  for (s.step = 0; s.step < opt.steps; ++s.step) {
    // Cosine decay to a tenth: the last steps settle instead of jittering around the optimum.
    const double lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * double(s.step) / double(opt.steps))));
    static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(lr);
    auto ts = std::chrono::steady_clock::now();
    adam.zero_grad();
    auto terms = autograd_terms(s);
    std::map<std::string, double> values;
    torch::Tensor total = torch::zeros({}, s.param.options());
    for (auto& [k, v] : terms) total = total + v;
    loop_s["lm_forward"] += seconds_since(ts);
    ts = std::chrono::steady_clock::now();
    if (!terms.empty()) total.backward();
    for (auto& [k, v] : terms) values[k] = v.item<double>();
    const bool logged = s.step % opt.log_every == 0 || s.step + 1 == opt.steps;
    if (has_direct_terms()) {
      torch::NoGradGuard no_grad;
      if (!s.param.grad().defined()) s.param.mutable_grad() = torch::zeros_like(s.param);
      auto g = s.param.grad().to(torch::kCPU);
      for (auto& [k, v] : direct_terms(s, g, logged)) values[k] = v;
      if (g.data_ptr() != s.param.grad().data_ptr()) s.param.mutable_grad().copy_(g);  // device round trip
    }
    loop_s["gradients"] += seconds_since(ts);
    ts = std::chrono::steady_clock::now();
    adam.step();
    loop_s["adam"] += seconds_since(ts);
    if (logged) log.add(run, progress, s.step, lr, values);
  }
  progress.finish();
  run.report["log"] = log.lines;
  run.report["time_s"]["loop"] = loop_s;
  auto E = s.param.detach().to(torch::kCPU, torch::kFloat32);
  finish(run, E);
  return E;
}

}  // namespace structlm::hcma
