// HCMA as an alignment method (docs/METHODS.md §2a-c): statistics, hierarchy and objective built
// before the shared loop, the objective's gradient added directly at every step, the optional LM
// loss as an autograd term, frozen rows and the trust region around each step, and the rare-token
// collapse check after the loop. Also the shrink-to-centroid baseline, which needs the same
// statistics and hierarchy.
#include <cstdio>
#include <filesystem>

#include "hcma/align_loop.h"
#include "model/checkpoint.h"
#include "hcma/baselines.h"
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

json leaf_cosine_json(const LeafCosine& before, const LeafCosine& after) {
  return {{"rows", before.rows}, {"leaves", before.leaves}, {"pairs", before.pairs},
          {"before", before.mean_cosine}, {"after", after.mean_cosine}};
}

}  // namespace

ContextHierarchy context_hierarchy(AlignRun& run, const HcmaOptions& opt) {
  const auto& o = run.options;
  ContextHierarchy out;
  {
    // One region: the statistics pass changes no weight, so autocast's bf16 copies stay valid.
    model::AutocastGuard autocast(run.precision.precision, run.model.module().parameters().front().device());
    out.stats = collect_context_stats(run.model, run.calib, opt.layer, o.calib_tokens, o.loop.batch_size, run.context);
  }
  run.counts = out.stats.counts;
  const double stats_s = seconds_since(run.t0);
  out.hierarchy = build_hierarchy(run.E0, out.stats.mean, out.stats.counts, opt.hierarchy);
  const auto& h = out.hierarchy;
  json& report = run.report;
  report["layer"] = out.stats.layer;
  report["calibration_tokens"] = out.stats.tokens;
  report["hierarchy"] = hierarchy_sizes(h);
  auto top = h.path.select(1, 0).contiguous();
  report["top_cluster"] = std::vector<std::int64_t>(top.data_ptr<std::int64_t>(), top.data_ptr<std::int64_t>() + top.numel());
  report["time_s"] = {{"statistics", stats_s}, {"hierarchy", seconds_since(run.t0) - stats_s}};
  std::fprintf(stderr, "align: %lld tokens scanned at layer %d; %lld clustered into %lld leaves; %.1f s so far\n",
               (long long)out.stats.tokens, out.stats.layer, (long long)report["hierarchy"]["clustered_tokens"].get<std::int64_t>(),
               (long long)h.clusters(h.depth - 1), seconds_since(run.t0));
  return out;
}

namespace {

class Hcma : public TrainedMethod {
 public:
  explicit Hcma(const HcmaOptions& o) : opt_(o) {}
  std::string name() const override { return "hcma"; }
  bool uses_lm() const override { return opt_.lambda_lm > 0; }

 protected:
  // The statistics, hierarchy and objective (§2a-c), with their sizes and times in the report.
  void prepare(AlignRun& run) override {
    auto ch = context_hierarchy(run, opt_);
    const double before = seconds_since(run.t0);
    objective_ = std::make_unique<HcmaObjective>(run.E0, ch.stats, ch.hierarchy, opt_.terms);
    hierarchy_ = std::move(ch.hierarchy);
    json& report = run.report;
    report["tokens_with_neighbours"] = objective_->has_neighbours.sum().item<std::int64_t>();
    report["kl_tokens"] = objective_->kl_pool.numel();
    report["frozen_rows"] = objective_->frozen.sum().item<std::int64_t>();
    report["time_s"]["neighbours"] = seconds_since(run.t0) - before;
  }

  std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) override {
    if (!uses_lm()) return {};
    return {{"lm", opt_.lambda_lm * lm_loss(s)}};
  }

  bool has_direct_terms() const override { return true; }
  std::map<std::string, double> direct_terms(LoopState& s, torch::Tensor& grad, bool logged) override {
    return objective_->step(s.param.detach().to(torch::kCPU), s.gen, grad, logged);
  }

  void constrain_gradient(LoopState& s) override {
    auto g = s.param.mutable_grad();
    objective_->mask_gradient(g);
  }
  void constrain_table(LoopState& s) override {
    torch::NoGradGuard no_grad;
    auto E = s.param.detach();  // shares the storage: the projection writes into s.param
    projected_ = objective_->constrain(E);
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
    if (objective_->radius.defined()) run.report["trust_region"] = {{"rows_projected_last_step", projected_}};

    // The collapse check: do the rows of rare tokens (n_t < n_min, placed by E alone) draw
    // together inside their leaf? Frequent rows beside them for scale.
    const auto leaf_of = hierarchy_.path.select(1, hierarchy_.depth - 1);
    const auto rare = hierarchy_.clustered.logical_not();
    const auto rb = within_leaf_cosine(run.E0, leaf_of, rare), ra = within_leaf_cosine(E, leaf_of, rare);
    const auto fb = within_leaf_cosine(run.E0, leaf_of, hierarchy_.clustered),
               fa = within_leaf_cosine(E, leaf_of, hierarchy_.clustered);
    run.report["rare_collapse"] = {{"min_count", opt_.hierarchy.min_count},
                                   {"rare", leaf_cosine_json(rb, ra)},
                                   {"frequent", leaf_cosine_json(fb, fa)}};
    std::fprintf(stderr,
                 "align: within-leaf mean cosine, rare rows (n < %lld; %lld rows, %lld leaves): %.4f -> %.4f; "
                 "frequent rows: %.4f -> %.4f\n",
                 (long long)opt_.hierarchy.min_count, (long long)rb.rows, (long long)rb.leaves, rb.mean_cosine,
                 ra.mean_cosine, fb.mean_cosine, fa.mean_cosine);
  }

 private:
  HcmaOptions opt_;
  std::unique_ptr<HcmaObjective> objective_;
  Hierarchy hierarchy_;
  std::int64_t projected_ = 0;
};

// E* = (1 − a) E⁰ + a m_leaf(t) (issue 15): the simplest way to pull rare rows towards their
// cluster, with HCMA's own hierarchy. Closed form given the hierarchy, whose seed is fixed, so one
// result serves every seed.
class Shrink : public AlignMethod {
 public:
  Shrink(const HcmaOptions& h, const ShrinkOptions& o) : hcma_(h), opt_(o) {}
  std::string name() const override { return "shrink"; }
  // A matched shrink depends on the model it matches, which depends on its seed.
  bool deterministic() const override { return opt_.match_checkpoint.empty(); }
  bool uses_lm() const override { return false; }
  torch::Tensor align(AlignRun& run) override {
    auto ch = context_hierarchy(run, hcma_);
    const auto& h = ch.hierarchy;
    const int leaf = h.depth - 1;
    const auto leaf_of = h.path.select(1, leaf);
    const auto& centroids = h.centroid_e[std::size_t(leaf)];
    double a = opt_.a;
    if (!opt_.match_checkpoint.empty()) a = match(run, leaf_of, centroids);
    run.report["a"] = a;
    return shrink_to_centroid(run.E0, leaf_of, centroids, a);
  }

 private:
  // Issue 15, item 2: a such that the clean loss increase on the validation shard equals the
  // matched model's, by bisection (the increase grows with a: a = 0 is the source itself).
  double match(AlignRun& run, const torch::Tensor& leaf_of, const torch::Tensor& centroids) {
    const std::string& shard = opt_.match_shard;
    check(std::filesystem::path(shard).filename() != "test.bin", shard,
          "shrink matches its a on a validation split, never on a test split");
    const data::TokenStream val({shard});
    val.check_ids_below(std::size_t(run.E0.size(0)), "the model's vocabulary");
    const auto ck = model::read_any_checkpoint(opt_.match_checkpoint);
    const std::string name = run.model.input_table_name();
    check(ck.tensors.count(name) != 0, opt_.match_checkpoint, "has no input table '" + name + "'");
    const torch::Tensor E_match = ck.tensors.at(name);
    check(E_match.sizes() == run.E0.sizes(), opt_.match_checkpoint, "its input table's shape is not the source's");
    const int batch = std::max(1, run.options.loop.batch_size);
    auto loss = [&](const torch::Tensor& E) {
      return loss_with_input_table(run.model, E, val, opt_.match_tokens, run.context, batch, run.precision.precision);
    };
    const double original = loss(run.E0), matched = loss(E_match);
    const auto b = bisect_increasing(
        [&](double x) { return loss(shrink_to_centroid(run.E0, leaf_of, centroids, x)) - original; }, matched - original,
        0.0, 1.0, opt_.match_tol, opt_.match_iterations);
    json trace = json::array();
    for (const auto& [x, v] : b.trace) trace.push_back({x, v});
    run.report["match"] = {{"checkpoint", opt_.match_checkpoint},
                           {"shard", shard},
                           {"tokens", opt_.match_tokens},
                           {"tol", opt_.match_tol},
                           {"original_val_loss", original},
                           {"matched_val_loss", matched},
                           {"target_increase", matched - original},
                           {"a", b.x},
                           {"shrink_val_loss", original + b.value},
                           {"shrink_increase", b.value},
                           {"reached", b.reached},
                           {"evaluations", trace}};
    std::fprintf(stderr,
                 "align: shrink matched to %s on %s: clean loss %.4f -> %.4f (+%.4f); a = %.6f gives %.4f (+%.4f)%s\n",
                 opt_.match_checkpoint.c_str(), shard.c_str(), original, matched, matched - original, b.x,
                 original + b.value, b.value, b.reached ? "" : " (not within tolerance)");
    return b.x;
  }

  HcmaOptions hcma_;
  ShrinkOptions opt_;
};

}  // namespace

std::unique_ptr<AlignMethod> make_hcma_method(const HcmaOptions& opt) { return std::make_unique<Hcma>(opt); }
std::unique_ptr<AlignMethod> make_shrink_method(const HcmaOptions& h, const ShrinkOptions& o) {
  return std::make_unique<Shrink>(h, o);
}

}  // namespace structlm::hcma
