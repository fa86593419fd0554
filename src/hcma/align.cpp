#include "hcma/align.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "hcma/baselines.h"
#include "hcma/context_stats.h"
#include "core/error.h"
#include "core/fields.h"
#include "core/io.h"
#include "core/progress.h"

namespace structlm::align {

namespace F = torch::nn::functional;

namespace {

// The methods, by name: what each needs of the shared machinery. A closed-form method maps E0 to
// E in one call (no randomness: one result serves every seed); the others run the Adam loop, with
// the LM loss through the frozen model (always, or for HCMA when lambda_lm > 0), noise on the
// input embeddings, a cosine term, or HCMA's own objective.
struct Method {
  const char* name;
  torch::Tensor (*closed_form)(const torch::Tensor& E0, const AlignOptions& o, json& report);  // null: trained
  bool lm = false, input_noise = false, cosine = false, hcma = false;
};

torch::Tensor abtt_table(const torch::Tensor& E0, const AlignOptions& o, json& report) {
  const int D = o.abtt_directions > 0 ? o.abtt_directions : default_abtt_directions(E0.size(1));
  report["directions"] = D;
  return all_but_the_top(E0, D);
}
torch::Tensor whiten_table(const torch::Tensor& E0, const AlignOptions&, json&) { return whiten(E0); }

const std::vector<Method>& registry() {
  static const std::vector<Method> methods = {
      {"hcma", nullptr, false, false, false, true},
      {"abtt", abtt_table},
      {"whiten", whiten_table},
      {"emb-finetune", nullptr, true},
      {"emb-noise", nullptr, true, true},
      {"cosreg", nullptr, true, false, true},
  };
  return methods;
}

const Method& method_of(const std::string& name) {
  for (const auto& m : registry())
    if (name == m.name) return m;
  fail("align", "unknown alignment method '" + name + "'");
}

}  // namespace

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : registry()) n.push_back(m.name);
    return n;
  }();
  return names;
}

bool AlignOptions::trained() const { return method_of(method).closed_form == nullptr; }
bool AlignOptions::deterministic() const { return !trained(); }
bool AlignOptions::uses_lm() const {
  const auto& m = method_of(method);
  return m.lm || (m.hcma && lambda_lm > 0);
}

const FieldTable<AlignOptions>& AlignOptions::fields() {
  using O = AlignOptions;
  static const auto t =
      FieldTable<O>()
          .add("method", +[](O& o) -> std::string& { return o.method; }, "hcma, abtt, whiten, emb-finetune, emb-noise or cosreg")
          .add("seed", +[](O& o) -> std::uint64_t& { return o.seed; }, "random seed of the method")
          .add("steps", +[](O& o) -> int& { return o.steps; }, "optimisation steps (trained methods)", "positive", positive)
          .add("lr", +[](O& o) -> double& { return o.lr; }, "Adam's learning rate, relative to E's RMS entry", "positive", positive)
          .add("batch_size", +[](O& o) -> int& { return o.batch_size; }, "LM batches of block_size tokens", "positive", positive)
          .add("log_every", +[](O& o) -> int& { return o.log_every; }, "steps between logged terms", "positive", positive)
          .add("layer", +[](O& o) -> int& { return o.layer; }, "HCMA: the layer of the contextual states (-1: the middle)")
          .add("calib_tokens", +[](O& o) -> std::size_t& { return o.calib_tokens; }, "cap on calibration tokens scanned (0: all)")
          .add("branching", +[](O& o) -> int& { return o.hierarchy.branching; }, "HCMA: k-means branching b", "at least 2", at_least(2))
          .add("depth", +[](O& o) -> int& { return o.hierarchy.depth; }, "HCMA: hierarchy depth D", "positive", positive)
          .add("min_count", +[](O& o) -> std::int64_t& { return o.hierarchy.min_count; }, "HCMA: n_min, tokens clustered on their own mean", "positive", positive)
          .add("kmeans_iterations", +[](O& o) -> int& { return o.hierarchy.iterations; }, "HCMA: Lloyd iterations per split", "positive", positive)
          .add("neighbours", +[](O& o) -> int& { return o.terms.neighbours; }, "HCMA: k neighbourhood candidates", "positive", positive)
          .add("tau", +[](O& o) -> double& { return o.terms.tau; }, "HCMA: P_ctx temperature", "positive", positive)
          .add("tau_e", +[](O& o) -> double& { return o.terms.tau_e; }, "HCMA: P_E temperature", "positive", positive)
          .add("kappa", +[](O& o) -> double& { return o.terms.kappa; }, "HCMA: smoothing of mu towards the leaf", "non-negative", non_negative)
          .add("rho_min", +[](O& o) -> double& { return o.terms.rho_min; }, "HCMA: proximity weight of an unseen token", "in [0, 1]",
               [](double v) { return v >= 0 && v <= 1; })
          .add("lambda_nb", +[](O& o) -> double& { return o.terms.lambda_nb; }, "HCMA: weight of the neighbourhood KL", "non-negative", non_negative)
          .add("lambda_h", +[](O& o) -> double& { return o.terms.lambda_h; }, "HCMA: weight of the hierarchical W2", "non-negative", non_negative)
          .add("lambda_p", +[](O& o) -> double& { return o.terms.lambda_p; }, "HCMA: weight of the proximity term", "non-negative", non_negative)
          .add("lambda_lm", +[](O& o) -> double& { return o.lambda_lm; }, "HCMA: weight of the optional LM loss", "non-negative", non_negative)
          .add("token_batch", +[](O& o) -> std::int64_t& { return o.terms.token_batch; }, "HCMA: tokens per step in the KL term", "positive", positive)
          .add("abtt_directions", +[](O& o) -> int& { return o.abtt_directions; }, "abtt: directions removed (0: d/100)", "non-negative", non_negative)
          .add("noise", +[](O& o) -> double& { return o.noise; }, "emb-noise: noise norm relative to the mean row norm", "non-negative", non_negative)
          .add("cosreg", +[](O& o) -> double& { return o.cosreg; }, "cosreg: weight of the mean pairwise cosine", "non-negative", non_negative);
  return t;
}

json AlignOptions::to_json() const { return fields().to_json(*this); }

AlignOptions AlignOptions::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "alignment options must be a JSON object");
  AlignOptions o;
  fields().read(j, o, path);
  const auto& m = method_names();
  if (std::find(m.begin(), m.end(), o.method) == m.end()) {
    std::string known;
    for (const auto& n : m) known += (known.empty() ? "" : ", ") + n;
    fail(path, "unknown alignment method '" + o.method + "' (" + known + ")");
  }
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

namespace {

// Calibration frequencies of every id (each method's report buckets the movement by them).
torch::Tensor calibration_counts(const data::TokenStream& calib, std::int64_t V, std::size_t limit) {
  std::size_t n = calib.size();
  if (limit > 0) n = std::min(n, limit);
  std::vector<std::int64_t> ids(n);
  calib.read(0, n, ids.data());
  auto t = torch::from_blob(ids.data(), {std::int64_t(n)}, torch::kLong);
  check(n == 0 || (t.min().item<std::int64_t>() >= 0 && t.max().item<std::int64_t>() < V), "calibration",
        "token ids outside the model's vocabulary");
  return torch::bincount(t, {}, V);
}

// HCMA's statistics, hierarchy and objective (§2a-c), with their sizes and times in the report.
std::unique_ptr<HcmaObjective> prepare_hcma(model::GPT& model, const data::TokenStream& calib, const torch::Tensor& E0,
                                            const AlignOptions& opt, json& report, torch::Tensor& counts,
                                            std::chrono::steady_clock::time_point t0) {
  auto stats = collect_context_stats(model, calib, opt.layer, opt.calib_tokens, opt.batch_size);
  counts = stats.counts;
  const double stats_s = seconds_since(t0);
  auto h = build_hierarchy(E0, stats.mean, stats.counts, opt.hierarchy);
  const double hierarchy_s = seconds_since(t0) - stats_s;
  auto objective = std::make_unique<HcmaObjective>(E0, stats, h, opt.terms);
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
  return objective;
}

// The autograd terms of one step: the LM loss on a calibration batch through the frozen model
// (embedded from `param`, with noise for emb-noise) and cosreg's mean pairwise cosine.
std::map<std::string, torch::Tensor> lm_terms(const Method& m, model::GPT& net, const data::TokenStream& calib,
                                              const AlignOptions& opt, const torch::Tensor& param, int step,
                                              std::vector<std::int64_t>& buf, at::Generator& gen, double mean_norm) {
  const auto& cfg = net->config();
  calib.random_batch(opt.seed, step, opt.batch_size, int(cfg.block_size), buf.data());
  auto b = torch::from_blob(buf.data(), {opt.batch_size, cfg.block_size + 1}, torch::kLong).to(param.device());
  auto x = b.slice(1, 0, cfg.block_size), y = b.slice(1, 1);
  auto emb = F::embedding(x, param);
  if (m.input_noise) {
    // A Gaussian direction per position, scaled to `noise` times the mean row norm.
    auto z = torch::randn(emb.sizes(), gen, emb.options());
    emb = emb + z / z.norm(2, -1, true).clamp_min(1e-12) * (opt.noise * mean_norm);
  }
  auto logits = net->forward_embeddings(emb);
  auto lm = F::cross_entropy(logits.view({-1, logits.size(-1)}), y.reshape({-1}));
  std::map<std::string, torch::Tensor> terms;
  terms["lm"] = m.hcma ? opt.lambda_lm * lm : lm;
  if (m.cosine) terms["cos"] = opt.cosreg * mean_pairwise_cosine(param);
  return terms;
}

// The objective before and after on one fixed sample of tokens (all of them for small
// vocabularies): every token at GPT-2's size would take longer than the loop.
void record_final_terms(HcmaObjective& objective, const torch::Tensor& E0, const torch::Tensor& E, json& report) {
  const std::int64_t sample = 8192;
  report["terms_sample"] = std::min<std::int64_t>(sample, objective.has_neighbours.sum().item<std::int64_t>());
  auto as_json = [](const std::map<std::string, torch::Tensor>& terms) {
    json j = json::object();
    for (auto& [k, v] : terms) j[k] = v.item<double>();
    return j;
  };
  const json f = as_json(objective.full_terms(E, sample));
  report["terms_initial"] = as_json(objective.full_terms(E0, sample));
  report["terms_final"] = f;
}

// The shared loop of every trained method: Adam on E only, cosine decay, each term logged.
torch::Tensor optimise(const Method& m, model::GPT& model, const data::TokenStream& calib, const torch::Tensor& E0,
                       const AlignOptions& opt, HcmaObjective* objective, json& report, const std::string& log_path,
                       std::chrono::steady_clock::time_point t0) {
  const auto& cfg = model->config();
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
    if (opt.uses_lm()) terms = lm_terms(m, net, calib, opt, param, step, buf, gen, mean_norm);
    std::map<std::string, double> values;
    torch::Tensor total = torch::zeros({}, param.options());
    for (auto& [k, v] : terms) total = total + v;
    loop_s["lm_forward"] += seconds_since(ts);
    ts = std::chrono::steady_clock::now();
    if (!terms.empty()) total.backward();
    for (auto& [k, v] : terms) values[k] = v.item<double>();
    const bool logged = step % opt.log_every == 0 || step + 1 == opt.steps;
    if (objective) {
      torch::NoGradGuard no_grad;
      if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
      auto g = param.grad().to(torch::kCPU);
      for (auto& [k, v] : objective->step(param.detach().to(torch::kCPU), gen, g, logged)) values[k] = v;
      if (g.data_ptr() != param.grad().data_ptr()) param.mutable_grad().copy_(g);  // device round trip
    }
    double total_value = 0;
    for (auto& [k, v] : values) total_value += v;
    loop_s["gradients"] += seconds_since(ts);
    ts = std::chrono::steady_clock::now();
    adam.step();
    loop_s["adam"] += seconds_since(ts);
    if (!logged) continue;
    json line = {{"step", step}, {"lr", lr}, {"total", total_value}, {"elapsed_s", seconds_since(t0)}};
    std::string fields = "loss " + format_fixed(total_value, 4);
    for (auto& [k, v] : values) {
      line[k] = v;
      fields += " | " + k + " " + format_fixed(v, 4);
    }
    terms_log.push_back(line);
    if (!log_path.empty()) write_file_atomic(log_path, log += line.dump() + "\n");
    progress.update(step + 1, fields);
  }
  progress.finish();
  report["log"] = terms_log;
  report["time_s"]["loop"] = loop_s;
  auto E = param.detach().to(torch::kCPU, torch::kFloat32);
  if (objective) record_final_terms(*objective, E0, E, report);
  return E;
}

}  // namespace

AlignResult align_embeddings(model::GPT& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::manual_seed(opt.seed);  // noise and any sampling inside torch; the token batches use `gen`
  const Method& m = method_of(opt.method);
  const torch::Tensor E0 = model->wte->weight.detach().to(torch::kCPU, torch::kFloat32).clone();
  json report = {{"method", opt.method}, {"options", opt.to_json()}};
  torch::Tensor counts;
  std::unique_ptr<HcmaObjective> objective;
  if (m.hcma)
    objective = prepare_hcma(model, calib, E0, opt, report, counts, t0);
  else
    counts = calibration_counts(calib, E0.size(0), opt.calib_tokens);
  torch::Tensor E = m.closed_form ? m.closed_form(E0, opt, report)
                                  : optimise(m, model, calib, E0, opt, objective.get(), report, log_path, t0);
  E = E.to(torch::kFloat32).contiguous();
  report["movement"] = movement_by_frequency(E0, E, counts);
  report["wall_s"] = seconds_since(t0);
  return {E, report};
}

}  // namespace structlm::align
