#include "align/align.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "align/baselines.h"
#include "align/context_stats.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"

namespace structlm::align {

namespace F = torch::nn::functional;

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = {"hcma", "abtt", "whiten", "emb-finetune", "emb-noise", "cosreg"};
  return names;
}

bool AlignOptions::trained() const { return method != "abtt" && method != "whiten"; }
bool AlignOptions::uses_lm() const { return method != "hcma" ? trained() : lambda_lm > 0; }

json AlignOptions::to_json() const {
  return {{"method", method},
          {"seed", seed},
          {"steps", steps},
          {"lr", lr},
          {"batch_size", batch_size},
          {"log_every", log_every},
          {"layer", layer},
          {"calib_tokens", calib_tokens},
          {"branching", hierarchy.branching},
          {"depth", hierarchy.depth},
          {"min_count", hierarchy.min_count},
          {"kmeans_iterations", hierarchy.iterations},
          {"neighbours", terms.neighbours},
          {"tau", terms.tau},
          {"tau_e", terms.tau_e},
          {"kappa", terms.kappa},
          {"rho_min", terms.rho_min},
          {"lambda_nb", terms.lambda_nb},
          {"lambda_h", terms.lambda_h},
          {"lambda_p", terms.lambda_p},
          {"lambda_lm", lambda_lm},
          {"token_batch", terms.token_batch},
          {"abtt_directions", abtt_directions},
          {"noise", noise},
          {"cosreg", cosreg}};
}

AlignOptions AlignOptions::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "alignment options must be a JSON object");
  check_known_keys(j, {"method", "seed", "steps", "lr", "batch_size", "log_every", "layer", "calib_tokens", "branching",
                       "depth", "min_count", "kmeans_iterations", "neighbours", "tau", "tau_e", "kappa", "rho_min",
                       "lambda_nb", "lambda_h", "lambda_p", "lambda_lm", "token_batch", "abtt_directions", "noise",
                       "cosreg"},
                   path);
  AlignOptions o;
  read_field(j, "method", o.method, path);
  read_field(j, "seed", o.seed, path);
  read_field(j, "steps", o.steps, path);
  read_field(j, "lr", o.lr, path);
  read_field(j, "batch_size", o.batch_size, path);
  read_field(j, "log_every", o.log_every, path);
  read_field(j, "layer", o.layer, path);
  read_field(j, "calib_tokens", o.calib_tokens, path);
  read_field(j, "branching", o.hierarchy.branching, path);
  read_field(j, "depth", o.hierarchy.depth, path);
  read_field(j, "min_count", o.hierarchy.min_count, path);
  read_field(j, "kmeans_iterations", o.hierarchy.iterations, path);
  read_field(j, "neighbours", o.terms.neighbours, path);
  read_field(j, "tau", o.terms.tau, path);
  read_field(j, "tau_e", o.terms.tau_e, path);
  read_field(j, "kappa", o.terms.kappa, path);
  read_field(j, "rho_min", o.terms.rho_min, path);
  read_field(j, "lambda_nb", o.terms.lambda_nb, path);
  read_field(j, "lambda_h", o.terms.lambda_h, path);
  read_field(j, "lambda_p", o.terms.lambda_p, path);
  read_field(j, "lambda_lm", o.lambda_lm, path);
  read_field(j, "token_batch", o.terms.token_batch, path);
  read_field(j, "abtt_directions", o.abtt_directions, path);
  read_field(j, "noise", o.noise, path);
  read_field(j, "cosreg", o.cosreg, path);
  const auto& m = method_names();
  if (std::find(m.begin(), m.end(), o.method) == m.end())
    fail(path, "unknown alignment method '" + o.method + "' (hcma, abtt, whiten, emb-finetune, emb-noise, cosreg)");
  auto positive = [&](bool ok, const char* field) { check(ok, path, std::string("field '") + field + "' must be positive"); };
  positive(o.steps > 0, "steps");
  positive(o.lr > 0, "lr");
  positive(o.batch_size > 0, "batch_size");
  positive(o.log_every > 0, "log_every");
  positive(o.hierarchy.branching >= 2, "branching (at least 2)");
  positive(o.hierarchy.depth >= 1, "depth");
  positive(o.hierarchy.min_count >= 1, "min_count");
  positive(o.hierarchy.iterations >= 1, "kmeans_iterations");
  positive(o.terms.neighbours >= 1, "neighbours");
  positive(o.terms.tau > 0, "tau");
  positive(o.terms.tau_e > 0, "tau_e");
  positive(o.terms.token_batch >= 1, "token_batch");
  check(o.terms.kappa >= 0 && o.terms.rho_min >= 0 && o.terms.rho_min <= 1 && o.terms.lambda_nb >= 0 &&
            o.terms.lambda_h >= 0 && o.terms.lambda_p >= 0 && o.lambda_lm >= 0 && o.noise >= 0 && o.cosreg >= 0 &&
            o.abtt_directions >= 0,
        path, "kappa, rho_min (<= 1), the lambdas, noise, cosreg and abtt_directions must be non-negative");
  return o;
}

model::GPT with_input_embeddings(model::GPT& src, const torch::Tensor& E) {
  torch::NoGradGuard no_grad;
  auto cfg = src->config();
  const bool was_tied = cfg.tied;
  cfg.tied = false;
  model::GPT out(cfg);
  auto theirs = src->named_parameters(true);
  for (auto& item : out->named_parameters(true)) {
    const std::string& name = item.key();
    if (name == "wte.weight") item.value().copy_(E);
    else if (name == "lm_head.weight" && was_tied) item.value().copy_(src->wte->weight);
    else item.value().copy_(*theirs.find(name));
  }
  for (auto& item : out->named_buffers(true)) item.value().copy_(*src->named_buffers(true).find(item.key()));
  for (auto& p : out->parameters()) p.set_requires_grad(false);
  out->to(src->parameters().front().device());
  out->eval();
  return out;
}

namespace {

std::string format_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ by calibration frequency, the buckets of the rare-token evaluation.
json movement_by_frequency(const torch::Tensor& E0, const torch::Tensor& E, const torch::Tensor& counts) {
  auto rel = ((E - E0).norm(2, 1) / E0.norm(2, 1).clamp_min(1e-12)).to(torch::kFloat64);
  struct B {
    const char* label;
    std::int64_t lo, hi;
  };
  json out = json::array();
  for (B b : {B{"0", 0, 0}, B{"1-9", 1, 9}, B{"10-99", 10, 99}, B{"100-999", 100, 999}, B{">=1000", 1000, -1}}) {
    auto in = counts >= b.lo;
    if (b.hi >= 0) in = in.logical_and(counts <= b.hi);
    const auto n = in.sum().item<std::int64_t>();
    out.push_back({{"bucket", b.label},
                   {"min_count", b.lo},
                   {"tokens", n},
                   {"relative_move", n ? json(rel.masked_select(in).mean().item<double>()) : json(nullptr)}});
  }
  return out;
}

json hierarchy_sizes(const Hierarchy& h) {
  json levels = json::array();
  for (int l = 0; l < h.depth; ++l) {
    auto s = h.size[std::size_t(l)];
    levels.push_back({{"level", l + 1},
                      {"clusters", s.size(0)},
                      {"min_size", s.min().item<std::int64_t>()},
                      {"max_size", s.max().item<std::int64_t>()},
                      {"mean_size", s.to(torch::kFloat64).mean().item<double>()}});
  }
  return {{"clustered_tokens", h.clustered.sum().item<std::int64_t>()}, {"levels", levels}};
}

}  // namespace

AlignResult align_embeddings(model::GPT& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::manual_seed(opt.seed);  // noise and any sampling inside torch; the token batches use `gen` below
  const auto& cfg = model->config();
  const torch::Tensor E0 = model->wte->weight.detach().to(torch::kCPU, torch::kFloat32).clone();
  const std::int64_t V = E0.size(0), d = E0.size(1);

  json report = {{"method", opt.method}, {"options", opt.to_json()}};
  // Calibration frequencies: every method's report buckets the movement by them.
  torch::Tensor counts;
  std::unique_ptr<HcmaObjective> objective;
  if (opt.method == "hcma") {
    auto stats = collect_context_stats(model, calib, opt.layer, opt.calib_tokens, opt.batch_size);
    counts = stats.counts;
    const double stats_s = seconds_since(t0);
    auto h = build_hierarchy(E0, stats.mean, stats.counts, opt.hierarchy);
    const double hierarchy_s = seconds_since(t0) - stats_s;
    objective = std::make_unique<HcmaObjective>(E0, stats, h, opt.terms);
    report["layer"] = stats.layer;
    report["calibration_tokens"] = stats.tokens;
    report["hierarchy"] = hierarchy_sizes(h);
    auto top = h.path.select(1, 0).contiguous();
    report["top_cluster"] = std::vector<std::int64_t>(top.data_ptr<std::int64_t>(), top.data_ptr<std::int64_t>() + top.numel());
    report["tokens_with_neighbours"] = objective->has_neighbours.sum().item<std::int64_t>();
    report["time_s"] = {{"statistics", stats_s}, {"hierarchy", hierarchy_s}, {"neighbours", seconds_since(t0) - stats_s - hierarchy_s}};
    std::fprintf(stderr, "align: %lld tokens scanned at layer %d; %lld clustered into %lld leaves; %.1f s so far\n",
                 (long long)stats.tokens, stats.layer, (long long)report["hierarchy"]["clustered_tokens"].get<std::int64_t>(),
                 (long long)h.clusters(h.depth - 1), seconds_since(t0));
  } else {
    std::size_t n = calib.size();
    if (opt.calib_tokens > 0) n = std::min(n, opt.calib_tokens);
    std::vector<std::int64_t> ids(n);
    calib.read(0, n, ids.data());
    auto t = torch::from_blob(ids.data(), {std::int64_t(n)}, torch::kLong);
    check(n == 0 || (t.min().item<std::int64_t>() >= 0 && t.max().item<std::int64_t>() < V), "calibration",
          "token ids outside the model's vocabulary");
    counts = torch::bincount(t, {}, V);
  }

  torch::Tensor E;
  if (opt.method == "abtt") {
    const int D = opt.abtt_directions > 0 ? opt.abtt_directions : default_abtt_directions(d);
    report["directions"] = D;
    E = all_but_the_top(E0, D);
  } else if (opt.method == "whiten") {
    E = whiten(E0);
  } else {
    // The shared loop: Adam on E only; the LM-based terms run the frozen model from E.
    const auto device = model->parameters().front().device();
    auto net = opt.uses_lm() ? with_input_embeddings(model, E0) : model::GPT(nullptr);
    torch::Tensor param = E0.clone().to(device).set_requires_grad(true);
    const double rms = E0.pow(2).mean().sqrt().item<double>();
    const double lr0 = opt.lr * rms, mean_norm = E0.norm(2, 1).mean().item<double>();
    torch::optim::Adam adam({param}, torch::optim::AdamOptions(lr0));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(opt.seed);
    std::vector<std::int64_t> buf(std::size_t(opt.batch_size) * std::size_t(cfg.block_size + 1));
    if (opt.uses_lm())
      check(calib.size() > std::size_t(cfg.block_size), "calibration",
            "has " + std::to_string(calib.size()) + " tokens, fewer than one window of block_size + 1");
    std::string log;
    json terms_log = json::array();
    std::map<std::string, double> loop_s;  // where the loop's time goes (the report's time_s.loop)
    Progress progress("align " + opt.method, opt.steps);
    for (int step = 0; step < opt.steps; ++step) {
      // Cosine decay to a tenth: the last steps settle instead of jittering around the optimum.
      const double lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * double(step) / double(opt.steps))));
      static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(lr);
      auto ts = std::chrono::steady_clock::now();
      adam.zero_grad();
      // Autograd terms (the LM loss through the frozen model, cosreg) backpropagate into E;
      // HCMA's own terms add their gradient directly (HcmaObjective::step).
      std::map<std::string, torch::Tensor> terms;
      if (opt.uses_lm()) {
        calib.random_batch(opt.seed, step, opt.batch_size, int(cfg.block_size), buf.data());
        auto b = torch::from_blob(buf.data(), {opt.batch_size, cfg.block_size + 1}, torch::kLong).to(device);
        auto x = b.slice(1, 0, cfg.block_size), y = b.slice(1, 1);
        auto emb = F::embedding(x, param);
        if (opt.method == "emb-noise") {
          // A Gaussian direction per position, scaled to `noise` times the mean row norm.
          auto z = torch::randn(emb.sizes(), gen, emb.options());
          emb = emb + z / z.norm(2, -1, true).clamp_min(1e-12) * (opt.noise * mean_norm);
        }
        auto logits = net->forward_embeddings(emb);
        auto lm = F::cross_entropy(logits.view({-1, logits.size(-1)}), y.reshape({-1}));
        terms["lm"] = opt.method == "hcma" ? opt.lambda_lm * lm : lm;
        if (opt.method == "cosreg") terms["cos"] = opt.cosreg * mean_pairwise_cosine(param);
      }
      std::map<std::string, double> values;
      torch::Tensor total = torch::zeros({}, param.options());
      for (auto& [k, v] : terms) total = total + v;
      loop_s["lm_forward"] += seconds_since(ts);
      ts = std::chrono::steady_clock::now();
      if (!terms.empty()) total.backward();
      for (auto& [k, v] : terms) values[k] = v.item<double>();
      if (objective) {
        torch::NoGradGuard no_grad;
        if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
        auto g = param.grad().to(torch::kCPU);
        const bool logged = step % opt.log_every == 0 || step + 1 == opt.steps;
        for (auto& [k, v] : objective->step(param.detach().to(torch::kCPU), gen, g, logged)) values[k] = v;
        if (g.data_ptr() != param.grad().data_ptr()) param.mutable_grad().copy_(g);  // device round trip
      }
      double total_value = 0;
      for (auto& [k, v] : values) total_value += v;
      loop_s["gradients"] += seconds_since(ts);
      ts = std::chrono::steady_clock::now();
      adam.step();
      loop_s["adam"] += seconds_since(ts);
      if (step % opt.log_every == 0 || step + 1 == opt.steps) {
        json line = {{"step", step}, {"lr", lr}, {"total", total_value}, {"elapsed_s", seconds_since(t0)}};
        std::string fields = "loss " + format_fixed(total_value, 4);
        for (auto& [k, v] : values) {
          line[k] = v;
          fields += " | " + k + " " + format_fixed(v, 4);
        }
        terms_log.push_back(line);
        if (!log_path.empty()) {
          log += line.dump() + "\n";
          write_file_atomic(log_path, log);
        }
        progress.update(step + 1, fields);
      }
    }
    progress.finish();
    report["log"] = terms_log;
    report["time_s"]["loop"] = loop_s;
    if (objective) {
      // The objective before and after on one fixed sample of tokens (all of them for small
      // vocabularies): every token at GPT-2's size would take longer than the loop.
      const std::int64_t sample = 8192;
      report["terms_sample"] = std::min<std::int64_t>(sample, objective->has_neighbours.sum().item<std::int64_t>());
      auto final_terms = objective->full_terms(param.detach().to(torch::kCPU), sample);
      json f = json::object();
      for (auto& [k, v] : final_terms) f[k] = v.item<double>();
      auto initial = objective->full_terms(E0, sample);
      json i = json::object();
      for (auto& [k, v] : initial) i[k] = v.item<double>();
      report["terms_initial"] = i;
      report["terms_final"] = f;
    }
    E = param.detach().to(torch::kCPU, torch::kFloat32);
  }
  E = E.to(torch::kFloat32).contiguous();
  report["movement"] = movement_by_frequency(E0, E, counts);
  report["wall_s"] = seconds_since(t0);
  return {E, report};
}

}  // namespace structlm::align
