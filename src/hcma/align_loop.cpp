#include "hcma/align_loop.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

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

class AdamTable : public TableOptimizer {
 public:
  explicit AdamTable(torch::Tensor p) : adam_({std::move(p)}, torch::optim::AdamOptions(1e-3)) {}
  void zero_grad() override { adam_.zero_grad(); }
  void step(double lr) override {
    static_cast<torch::optim::AdamOptions&>(adam_.param_groups()[0].options()).lr(lr);
    adam_.step();
  }
  void save(torch::serialize::OutputArchive& a) const override { adam_.save(a); }
  void load(torch::serialize::InputArchive& a) override { adam_.load(a); }

 private:
  torch::optim::Adam adam_;
};

class SgdTable : public TableOptimizer {
 public:
  explicit SgdTable(torch::Tensor p) : p_(std::move(p)), m_(torch::zeros_like(p_)) {}
  void zero_grad() override {
    if (!p_.grad().defined()) return;
    p_.mutable_grad().detach_();
    p_.mutable_grad().zero_();
  }
  void step(double lr) override {
    torch::NoGradGuard no_grad;
    const auto& g = p_.grad();
    if (!g.defined()) return;
    ++t_;
    m_.mul_(kBeta1).add_(g, 1 - kBeta1);
    v_ = kBeta2 * v_ + (1 - kBeta2) * g.to(torch::kFloat64).pow(2).mean().item<double>();
    const double m_hat = 1 / (1 - std::pow(kBeta1, double(t_)));
    const double v_hat = v_ / (1 - std::pow(kBeta2, double(t_)));
    p_.add_(m_, -lr * m_hat / (std::sqrt(v_hat) + kEps));
  }
  void save(torch::serialize::OutputArchive& a) const override {
    a.write("m", m_);
    a.write("v", torch::tensor(v_, torch::kFloat64));
    a.write("t", torch::tensor(t_, torch::kLong));
  }
  void load(torch::serialize::InputArchive& a) override {
    torch::Tensor m, v, t;
    a.read("m", m);
    a.read("v", v);
    a.read("t", t);
    m_.copy_(m);
    v_ = v.item<double>();
    t_ = t.item<std::int64_t>();
  }

 private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  torch::Tensor p_, m_;
  double v_ = 0;
  std::int64_t t_ = 0;
};

torch::Tensor text_tensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {std::int64_t(s.size())}, torch::kUInt8).clone();
}
std::string tensor_text(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), std::size_t(c.numel()));
}

// What identifies the run a checkpoint belongs to: the options (every one of them, the seed
// included) and the source table's bytes (a cheap float64 fingerprint).
std::string run_identity(const AlignRun& run) {
  // Row sums and squared row norms in float64 ([V] each, not a float64 copy of the table),
  // weighted by position so permuted rows differ.
  auto rows = run.E0.sum(1, false, torch::kFloat64), sq = run.E0.pow(2).sum(1, false, torch::kFloat64);
  auto w = torch::arange(1, rows.numel() + 1, torch::kFloat64);
  char fp[160];
  std::snprintf(fp, sizeof fp, "%lld x %lld, %.17g, %.17g", (long long)run.E0.size(0), (long long)run.E0.size(1),
                (rows * w).sum().item<double>(), (sq * w).sum().item<double>());
  // A capped context (align --context) is part of the run; the model's own adds nothing, so
  // checkpoints written before the cap existed still resume.
  const std::string context = run.context != run.model.context_length() ? "\ncontext " + std::to_string(run.context) : "";
  return run.options.to_json().dump() + "\n" + fp + context;
}

}  // namespace

std::unique_ptr<TableOptimizer> make_table_optimizer(const std::string& name, torch::Tensor param) {
  if (name == "adam") return std::make_unique<AdamTable>(std::move(param));
  if (name == "sgd") return std::make_unique<SgdTable>(std::move(param));
  fail("align", "unknown optimizer '" + name + "' (adam or sgd)");
}

std::string loop_checkpoint_path(const std::string& log_path) {
  return (std::filesystem::path(log_path).parent_path() / "loop_state.pt").string();
}

torch::Tensor lm_loss(LoopState& s, std::optional<double> noise) {
  model::CausalLM& net = s.net.lm();
  const std::int64_t T = s.run.context;
  const auto& loop = s.run.options.loop;
  // Inside the first calib_tokens tokens (0: all), the tokens HCMA's statistics pass reads: every
  // method sees one calibration stream (issue 15, item 3).
  s.run.calib.random_batch(s.run.options.seed, s.step, loop.batch_size, int(T), s.batch.data(), s.run.options.calib_tokens);
  auto b = torch::from_blob(s.batch.data(), {loop.batch_size, T + 1}, torch::kLong).to(s.param.device());
  auto x = b.slice(1, 0, T), y = b.slice(1, 1);
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
    logits = net.logits_from_embeddings(emb);
  }
  // Log-softmax over the vocabulary in fp32, as the trainer's loss (GPTImpl::loss, LlamaForCausalLMImpl::loss).
  logits = logits.to(torch::kFloat32);
  return F::cross_entropy(logits.view({-1, logits.size(-1)}), y.reshape({-1}));
}

void TrainedMethod::prepare(AlignRun& run) { run.counts = calibration_counts(run); }

torch::Tensor TrainedMethod::align(AlignRun& run) {
  prepare(run);
  const auto& opt = run.options.loop;
  const std::int64_t T = run.context;  // the LM batches' windows
  const auto device = run.model.module().parameters().front().device();
  LoopState s(run);
  if (uses_lm()) s.net = with_input_embeddings(run.model, run.E0);
  s.param = run.E0.clone().to(device).set_requires_grad(true);
  const double rms = run.E0.pow(2).mean().sqrt().item<double>();
  const double lr0 = opt.lr * rms;
  s.mean_norm = run.E0.norm(2, 1).mean().item<double>();
  auto optimizer = make_table_optimizer(opt.optimizer, s.param);
  s.gen = at::make_generator<at::CPUGeneratorImpl>(run.options.seed);
  s.batch.resize(std::size_t(opt.batch_size) * std::size_t(T + 1));
  if (uses_lm())
    check(run.calib.size() > std::size_t(T), "calibration",
          "has " + std::to_string(run.calib.size()) + " tokens, fewer than one window of block_size + 1");
  TermLog log;
  std::map<std::string, double> loop_s;  // where the loop's time goes (the report's time_s.loop)

  // Checkpoints: E, the optimiser's state, the step, both generators (the loop's and torch's
  // default) and the log so far, in one file written atomically. A file of another run (other
  // options or another source table) is ignored and overwritten.
  const std::string ckpt = opt.checkpoint_every > 0 && !run.log_path.empty() ? loop_checkpoint_path(run.log_path) : "";
  check(opt.checkpoint_every == 0 || !ckpt.empty(), "align", "checkpoint_every needs a report directory (log path)");
  const std::string identity = ckpt.empty() ? "" : run_identity(run);
  int start = 0;
  if (!ckpt.empty() && std::filesystem::exists(ckpt)) {
    torch::serialize::InputArchive a;
    a.load_from(ckpt);
    torch::Tensor id, E, step, gen, global_gen, text;
    a.read("identity", id);
    if (tensor_text(id) != identity) {
      std::fprintf(stderr, "align: %s belongs to another run (options or source differ); starting afresh\n", ckpt.c_str());
    } else {
      a.read("E", E);
      a.read("step", step);
      a.read("generator", gen);
      a.read("default_generator", global_gen);
      a.read("log", text);
      torch::serialize::InputArchive o;
      a.read("optimizer", o);
      {
        torch::NoGradGuard no_grad;
        s.param.copy_(E);
      }
      optimizer->load(o);
      {
        std::lock_guard<std::mutex> lock(s.gen.mutex());
        s.gen.set_state(gen);
      }
      {
        auto g = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_state(global_gen);
      }
      start = int(step.item<std::int64_t>());
      log.text = tensor_text(text);
      std::istringstream lines(log.text);
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) log.lines.push_back(json::parse(line));
      run.report["resumed_from_step"] = start;
      std::fprintf(stderr, "align: resuming %s at step %d of %d from %s\n", run.options.method.c_str(), start, opt.steps,
                   ckpt.c_str());
    }
  }
  auto save_checkpoint = [&](int steps_done) {
    torch::serialize::OutputArchive a, o;
    optimizer->save(o);
    a.write("identity", text_tensor(identity));
    a.write("E", s.param.detach().to(torch::kCPU));
    a.write("step", torch::tensor(std::int64_t(steps_done), torch::kLong));
    {
      std::lock_guard<std::mutex> lock(s.gen.mutex());
      a.write("generator", s.gen.get_state());
    }
    {
      auto g = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(g.mutex());
      a.write("default_generator", g.get_state());
    }
    a.write("log", text_tensor(log.text));
    a.write("optimizer", o);
    write_file_atomic(ckpt, [&](std::ostream& out) { a.save_to(out); });
    if (run.on_checkpoint) run.on_checkpoint(steps_done);
  };

  Progress progress("align " + run.options.method, opt.steps);
  for (s.step = start; s.step < opt.steps; ++s.step) {
    // Cosine decay to a tenth: the last steps settle instead of jittering around the optimum.
    const double lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * double(s.step) / double(opt.steps))));
    auto ts = std::chrono::steady_clock::now();
    optimizer->zero_grad();
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
    if (s.param.grad().defined()) constrain_gradient(s);
    optimizer->step(lr);
    constrain_table(s);
    loop_s["adam"] += seconds_since(ts);
    if (logged) log.add(run, progress, s.step, lr, values);
    if (!ckpt.empty() && (s.step + 1) % opt.checkpoint_every == 0 && s.step + 1 < opt.steps) {
      ts = std::chrono::steady_clock::now();
      save_checkpoint(s.step + 1);
      loop_s["checkpoint"] += seconds_since(ts);
    }
  }
  progress.finish();
  if (!ckpt.empty()) std::filesystem::remove(ckpt);  // the result is the product; a finished loop needs no state
  run.report["log"] = log.lines;
  run.report["time_s"]["loop"] = loop_s;
  auto E = s.param.detach().to(torch::kCPU, torch::kFloat32);
  finish(run, E);
  return E;
}

}  // namespace structlm::hcma
