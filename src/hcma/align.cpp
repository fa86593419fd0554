#include "hcma/align.h"

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "hcma/align_method.h"
#include "zoo/zoo.h"

namespace structlm::hcma {

zoo::LoadedModel with_input_embeddings(model::CausalLM& src, const torch::Tensor& E) {
  torch::NoGradGuard no_grad;
  const bool was_tied = src.tied_output();
  zoo::LoadedModel out = zoo::make_like(src, /*untie=*/true);
  model::CausalLM& dst = out.lm();
  const std::string input = src.input_table_name();
  auto theirs = src.module().named_parameters(true);
  for (auto& item : dst.module().named_parameters(true)) {
    const std::string& name = item.key();
    if (name == input) item.value().copy_(E);
    else if (name == "lm_head.weight" && was_tied) item.value().copy_(src.input_table());
    else item.value().copy_(*theirs.find(name));
  }
  auto buffers = src.module().named_buffers(true);
  for (auto& item : dst.module().named_buffers(true)) item.value().copy_(*buffers.find(item.key()));
  for (auto& p : dst.module().parameters()) p.set_requires_grad(false);
  dst.module().to(src.module().parameters().front().device());
  dst.module().eval();
  return out;
}

model::GPT with_input_embeddings(model::GPT& src, const torch::Tensor& E) { return with_input_embeddings(*src, E).gpt; }

namespace {

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

}  // namespace

AlignResult align_embeddings(model::GPT& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path, std::function<void(int)> on_checkpoint) {
  return align_embeddings(*model, calib, opt, log_path, std::move(on_checkpoint));
}

AlignResult align_embeddings(model::CausalLM& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path, std::function<void(int)> on_checkpoint, std::int64_t context) {
  const auto t0 = std::chrono::steady_clock::now();
  check(context == 0 || (context >= 2 && context <= model.context_length()), "align",
        "context " + std::to_string(context) + " must be 0 (the model's) or 2 .. the model's context length " +
            std::to_string(model.context_length()));
  torch::manual_seed(opt.seed);  // noise and any sampling inside torch; the token batches use the loop's generator
  auto method = make_align_method(opt);
  const torch::Tensor E0 = model.input_table().detach().to(torch::kCPU, torch::kFloat32).clone();
  const auto precision = model::resolve_precision(opt.precision, model.module().parameters().front().device());
  std::fprintf(stderr, "precision: %s (%s)\n", precision.name(), precision.why.c_str());
  json report = {{"method", opt.method},
                 {"options", opt.to_json()},
                 {"precision", {{"name", precision.name()}, {"why", precision.why}}}};
  if (context > 0) report["context"] = context;
  AlignRun run{model, calib, opt, E0, report, log_path, t0, precision, std::move(on_checkpoint), {},
               context > 0 ? context : model.context_length()};
  torch::Tensor E = method->align(run).to(torch::kFloat32).contiguous();
  report["movement"] = movement_by_frequency(E0, E, run.counts);
  report["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {E, report};
}

}  // namespace structlm::hcma
