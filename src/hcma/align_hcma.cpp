// HCMA as an alignment method (docs/METHODS.md §2a-c): statistics, hierarchy and objective built
// before the shared loop, the objective's gradient added directly at every step, the optional LM
// loss as an autograd term.
#include <cstdio>

#include "hcma/align_loop.h"
#include "hcma/context_stats.h"
#include "hcma/hierarchy.h"
#include "hcma/objective.h"

namespace structlm::hcma {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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

class Hcma : public TrainedMethod {
 public:
  explicit Hcma(const HcmaOptions& o) : opt_(o) {}
  std::string name() const override { return "hcma"; }
  bool uses_lm() const override { return opt_.lambda_lm > 0; }

 protected:
  // The statistics, hierarchy and objective (§2a-c), with their sizes and times in the report.
  void prepare(AlignRun& run) override {
    const auto& o = run.options;
    ContextStats stats;
    {
      // One region: the statistics pass changes no weight, so autocast's bf16 copies stay valid.
      model::AutocastGuard autocast(run.precision.precision, run.model->parameters().front().device());
      stats = collect_context_stats(run.model, run.calib, opt_.layer, o.calib_tokens, o.loop.batch_size);
    }
    run.counts = stats.counts;
    const double stats_s = seconds_since(run.t0);
    auto h = build_hierarchy(run.E0, stats.mean, stats.counts, opt_.hierarchy);
    const double hierarchy_s = seconds_since(run.t0) - stats_s;
    objective_ = std::make_unique<HcmaObjective>(run.E0, stats, h, opt_.terms);
    json& report = run.report;
    report["layer"] = stats.layer;
    report["calibration_tokens"] = stats.tokens;
    report["hierarchy"] = hierarchy_sizes(h);
    auto top = h.path.select(1, 0).contiguous();
    report["top_cluster"] = std::vector<std::int64_t>(top.data_ptr<std::int64_t>(), top.data_ptr<std::int64_t>() + top.numel());
    report["tokens_with_neighbours"] = objective_->has_neighbours.sum().item<std::int64_t>();
    report["time_s"] = {{"statistics", stats_s},
                        {"hierarchy", hierarchy_s},
                        {"neighbours", seconds_since(run.t0) - stats_s - hierarchy_s}};
    std::fprintf(stderr, "align: %lld tokens scanned at layer %d; %lld clustered into %lld leaves; %.1f s so far\n",
                 (long long)stats.tokens, stats.layer, (long long)report["hierarchy"]["clustered_tokens"].get<std::int64_t>(),
                 (long long)h.clusters(h.depth - 1), seconds_since(run.t0));
  }

  std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) override {
    if (!uses_lm()) return {};
    return {{"lm", opt_.lambda_lm * lm_loss(s)}};
  }

  bool has_direct_terms() const override { return true; }
  std::map<std::string, double> direct_terms(LoopState& s, torch::Tensor& grad, bool logged) override {
    return objective_->step(s.param.detach().to(torch::kCPU), s.gen, grad, logged);
  }

  // The objective before and after on one fixed sample of tokens (all of them for small
  // vocabularies): every token at GPT-2's size would take longer than the loop.
  void finish(AlignRun& run, const torch::Tensor& E) override {
    const std::int64_t sample = 8192;
    run.report["terms_sample"] = std::min<std::int64_t>(sample, objective_->has_neighbours.sum().item<std::int64_t>());
    auto as_json = [](const std::map<std::string, torch::Tensor>& terms) {
      json j = json::object();
      for (auto& [k, v] : terms) j[k] = v.item<double>();
      return j;
    };
    const json f = as_json(objective_->full_terms(E, sample));
    run.report["terms_initial"] = as_json(objective_->full_terms(run.E0, sample));
    run.report["terms_final"] = f;
  }

 private:
  HcmaOptions opt_;
  std::unique_ptr<HcmaObjective> objective_;
};

}  // namespace

std::unique_ptr<AlignMethod> make_hcma_method(const HcmaOptions& opt) { return std::make_unique<Hcma>(opt); }

}  // namespace structlm::hcma
