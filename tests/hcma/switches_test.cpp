// The second round's switches of HCMA (issue 15), each against what it promises and against
// leaving everything else alone: frozen rows, the trust region, the table-normalised SGD, the W2
// targets' fit and spread, the KL term's token batch, the rare-token collapse statistic, the
// loop's checkpoint and resume, and the shrink-to-centroid baseline. The defaults reproduce the
// first round's alignments (fingerprints recorded from the code before these switches).
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "hcma/align.h"
#include "hcma/align_loop.h"
#include "hcma/align_method.h"
#include "hcma/baselines.h"
#include "hcma/context_stats.h"
#include "hcma/frozen_check.h"
#include "hcma/hierarchy.h"
#include "hcma/objective.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/shard.h"
#include "model/checkpoint.h"
#include "hcma_test_util.h"
#include "support/temp_dir.h"

namespace structlm::hcma {
namespace {

using test_support::fixture;
using test_support::Fixture;
using test_support::tiny;
using test_support::write_stream;
using test_util::TempDir;

torch::Tensor stream_counts(const data::TokenStream& s) {
  std::vector<std::int64_t> ids(s.size());
  s.read(0, s.size(), ids.data());
  return torch::bincount(torch::tensor(ids), {}, 40);
}

AlignOptions small(const std::string& method, int steps) {
  AlignOptions o;
  o.method = method;
  o.loop.steps = steps;
  o.loop.batch_size = 2;
  o.loop.lr = 0.05;
  o.hcma.hierarchy.branching = 2;
  o.hcma.hierarchy.depth = 2;
  o.hcma.hierarchy.min_count = 3;
  o.hcma.terms.neighbours = 4;
  o.precision = "fp32";
  return o;
}

// Population mean and standard deviation of the rows of X in each cluster.
std::pair<torch::Tensor, torch::Tensor> moments(const torch::Tensor& X, const torch::Tensor& label, std::int64_t C) {
  auto m = torch::zeros({C, X.size(1)}), s = torch::zeros({C, X.size(1)});
  for (std::int64_t c = 0; c < C; ++c) {
    auto rows = X.index({label == c});
    m[c] = rows.mean(0);
    s[c] = rows.var(0, false).sqrt();
  }
  return {m, s};
}

// The first round's alignments, fingerprinted by the code before issue 15's switches existed
// (recorded on this project's CPU build): the defaults must still give them.
TEST(HcmaSwitches, DefaultsReproduceTheFirstRound) {
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  const std::map<std::string, std::pair<double, double>> recorded = {
      {"hcma", {-0.48899279629404191, -12.230539629847044}},
      {"emb-noise", {-0.64091777993598953, -18.978897907858482}},
      {"cosreg", {0.023632162850844907, 13.048508400668652}}};
  for (const char* m : {"hcma", "emb-noise", "cosreg"}) {
    auto r = align_embeddings(net, s, small(m, 20));
    auto e = r.E.to(torch::kFloat64);
    auto w = torch::arange(1, e.numel() + 1, torch::kFloat64).remainder(97).view(e.sizes());
    // Equal to the last bit here (1 and 2 threads); the tolerance leaves room for another BLAS's
    // summation order, far below what any change of the arithmetic moves (> 1e-3).
    EXPECT_NEAR(e.sum().item<double>(), recorded.at(m).first, 1e-6) << m;
    EXPECT_NEAR((e * w).sum().item<double>(), recorded.at(m).second, 1e-5) << m;
  }
}

TEST(HcmaSwitches, FrozenRowsStayByteIdenticalAndOnlyThey) {
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  const auto E0 = net->wte->weight.detach().clone();
  const auto counts = stream_counts(s);
  for (const char* optimizer : {"adam", "sgd"}) {
    auto o = small("hcma", 25);
    o.loop.optimizer = optimizer;
    o.hcma.terms.freeze_min_count = 50;
    auto r = align_embeddings(net, s, o);
    const auto frozen = counts >= 50;
    ASSERT_GT(frozen.sum().item<std::int64_t>(), 2);
    ASSERT_GT(frozen.logical_not().sum().item<std::int64_t>(), 10);
    EXPECT_EQ(r.report["frozen_rows"].get<std::int64_t>(), frozen.sum().item<std::int64_t>());
    for (std::int64_t t = 0; t < 40; ++t) {
      if (frozen[t].item<bool>()) {
        EXPECT_TRUE(r.E[t].equal(E0[t])) << optimizer << " frozen row " << t << " moved";
      }
    }
    // The others still move (the switch freezes rows, it does not stop the loop).
    auto moved = (r.E - E0).abs().sum(1) > 0;
    EXPECT_GT(moved.logical_and(frozen.logical_not()).sum().item<std::int64_t>(), 10) << optimizer;
  }
}

TEST(HcmaSwitches, TrustRegionHoldsEveryRowInItsRadius) {
  // On the objective: rows outside their radius are shortened onto it, along the same direction;
  // rows inside keep their bits.
  auto f = fixture();
  f.opt.trust_radius = 3.0;
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  const auto n = f.stats.counts.to(torch::kFloat32);
  auto want_r = 3.0 * f.E0.norm(2, 1) * torch::where(n > 0, 10 / (n + 10), torch::ones_like(n));
  ASSERT_TRUE(torch::allclose(obj.radius, want_r, 1e-6, 1e-9));
  auto D = torch::randn(f.E0.sizes()) * 0.05;
  auto E = f.E0 + D;
  const auto before = E.clone();
  const auto shortened = obj.constrain(E);
  auto dn = D.norm(2, 1), en = (E - f.E0).norm(2, 1);
  const auto outside = (before - f.E0).norm(2, 1) > want_r;
  EXPECT_EQ(shortened, outside.sum().item<std::int64_t>());
  ASSERT_GT(shortened, 5);
  ASSERT_LT(shortened, 115);
  EXPECT_TRUE((en <= want_r * (1 + 1e-5) + 1e-7).all().item<bool>());
  for (std::int64_t t = 0; t < E.size(0); ++t) {
    if (outside[t].item<bool>()) {
      EXPECT_NEAR(en[t].item<double>(), want_r[t].item<double>(), 1e-5 * want_r[t].item<double>() + 1e-7) << t;
      const double cos = torch::dot(E[t] - f.E0[t], D[t]).item<double>() / (en[t] * dn[t]).item<double>();
      EXPECT_NEAR(cos, 1.0, 1e-5) << t;
    } else {
      EXPECT_TRUE(E[t].equal(before[t])) << t;
    }
  }

  // Through the loop: every row ends inside its region, and the region binds.
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  const auto E0 = net->wte->weight.detach().clone();
  const auto counts = stream_counts(s).to(torch::kFloat32);
  auto o = small("hcma", 25);
  o.hcma.terms.trust_radius = 0.05;
  auto r = align_embeddings(net, s, o);
  auto radius = 0.05 * E0.norm(2, 1) * torch::where(counts > 0, 20 / (counts + 20), torch::ones_like(counts));
  auto moved = (r.E - E0).norm(2, 1);
  EXPECT_TRUE((moved <= radius * (1 + 1e-5) + 1e-7).all().item<bool>());
  EXPECT_GT((moved >= radius * (1 - 1e-4)).sum().item<std::int64_t>(), 5) << "the radius never bound";
  EXPECT_GT(r.report["trust_region"]["rows_projected_last_step"].get<std::int64_t>(), 0);
  // Without it the same loop moves some rows further.
  auto free = align_embeddings(net, s, small("hcma", 25));
  EXPECT_GT(((free.E - E0).norm(2, 1) > radius * 1.01).sum().item<std::int64_t>(), 5);
}

// Adam moves every row about lr per step whatever its gradient's size, so the proximity weight
// ρ_t cannot tell frequent rows from rare ones; the table-normalised SGD moves each row in
// proportion to its gradient, so ρ_t scales the pull back.
TEST(HcmaSwitches, SgdStepsScaleWithRhoAndAdamStepsDoNot) {
  auto f = fixture();
  f.opt.lambda_nb = 0;
  f.opt.lambda_h = 0;  // the proximity term alone
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  auto u = torch::randn({1, f.E0.size(1)}) * 0.02;
  std::map<std::string, torch::Tensor> step;
  for (const char* name : {"adam", "sgd"}) {
    auto param = (f.E0 + u).clone().set_requires_grad(true);
    auto opt = make_table_optimizer(name, param);
    opt->zero_grad();
    param.mutable_grad() = torch::zeros_like(param);
    auto g = param.grad();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
    obj.step(param.detach(), gen, g);
    opt->step(1e-3);
    step[name] = (param.detach() - (f.E0 + u)).norm(2, 1);
  }
  auto ratio = step["sgd"] / obj.rho;
  EXPECT_LT((ratio / ratio.mean() - 1).abs().max().item<double>(), 1e-3) << "sgd's steps are not proportional to rho";
  ASSERT_GT((obj.rho.max() / obj.rho.min()).item<double>(), 3);
  auto a = step["adam"];
  EXPECT_LT((a / a.mean() - 1).abs().max().item<double>(), 1e-3) << "adam's first step should not depend on rho";

  // The state a checkpoint carries: two optimisers, one restored from the other's archive after
  // a step, take the same next step bit for bit.
  for (const char* name : {"adam", "sgd"}) {
    auto p1 = f.E0.clone().set_requires_grad(true), p2 = f.E0.clone().set_requires_grad(true);
    auto o1 = make_table_optimizer(name, p1), o2 = make_table_optimizer(name, p2);
    auto grad = torch::randn(f.E0.sizes());
    p1.mutable_grad() = grad.clone();
    o1->step(1e-2);
    torch::serialize::OutputArchive out;
    o1->save(out);
    std::stringstream buf;
    out.save_to(buf);
    torch::serialize::InputArchive in;
    in.load_from(buf);
    o2->load(in);
    {
      torch::NoGradGuard ng;
      p2.copy_(p1);
    }
    p1.mutable_grad() = grad * 0.5;
    p2.mutable_grad() = grad * 0.5;
    o1->step(1e-2);
    o2->step(1e-2);
    EXPECT_TRUE(p1.equal(p2)) << name;
  }
}

TEST(HcmaSwitches, TargetsKeepTheMembersSpreadWhenAsked) {
  // A hand-built case where the first round's targets contract: E⁰ an exact affine function of
  // μ, so the fitted map is (nearly) exact on frequent tokens, but rare tokens' μ̃ is pulled to
  // the leaf's centroid and their mapped targets with it.
  auto f = fixture();
  auto A = torch::randn({5, 5}) * 0.1;
  f.E0 = torch::mm(f.stats.mean, A) + 0.05 * torch::randn({120, 5});
  f.h = build_hierarchy(f.E0, f.stats.mean, f.stats.counts, HierarchyOptions{3, 2, 8, 25, 1});
  std::map<std::string, HcmaObjective> by;
  for (const char* spread : {"mapped", "members", "sigma"}) {
    f.opt.target_spread = spread;
    by.emplace(spread, HcmaObjective(f.E0, f.stats, f.h, f.opt));
  }
  for (int l = 0; l < 2; ++l) {
    auto lab = f.h.path.select(1, l);
    const auto C = f.h.clusters(l);
    auto [m, s] = moments(f.E0, lab, C);
    // "members": the target spread is the members' spread in E⁰, per dimension; the means are
    // the mapped ones as before.
    EXPECT_TRUE(torch::allclose(by.at("members").target_std[std::size_t(l)], s, 1e-4, 1e-6)) << l;
    EXPECT_TRUE(by.at("members").target_mean[std::size_t(l)].equal(by.at("mapped").target_mean[std::size_t(l)]));
    // The first round's spread is below the members' (the contraction issue 15 describes).
    EXPECT_LT(by.at("mapped").target_std[std::size_t(l)].sum().item<double>(), s.sum().item<double>()) << l;
    // "sigma": the mapped means' variance plus each member's σ² through A² (mean over members).
    const auto& o = by.at("sigma");
    auto Z = torch::mm(torch::cat({o.smoothed_mu, torch::ones({120, 1})}, 1), o.map);
    auto extra = torch::mm(f.stats.var, o.map.slice(0, 0, 5).pow(2));
    auto [zm, zs] = moments(Z, lab, C);
    auto [em, es] = moments(extra, lab, C);
    EXPECT_TRUE(torch::allclose(o.target_std[std::size_t(l)], (zs * zs + em).sqrt(), 1e-4, 1e-6)) << l;
  }
  // The gradients stay the closed form of the same objective (only the targets changed).
  f.opt.target_spread = "members";
  f.opt.token_batch = 20;
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  auto E = (f.E0 + 0.05 * torch::randn(f.E0.sizes())).requires_grad_(true);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(3), g2 = at::make_generator<at::CPUGeneratorImpl>(3);
  auto t = obj.terms(E, g1);
  (t.at("nb") + t.at("h") + t.at("p")).backward();
  auto grad = torch::zeros_like(E);
  obj.step(E.detach(), g2, grad);
  EXPECT_LT((grad - E.grad()).abs().max().item<double>(), 1e-4 * E.grad().abs().max().item<double>());
  // At E⁰ the members' spread costs nothing: only the means pull.
  auto at0 = obj.full_terms(f.E0).at("h").item<double>();
  double means = 0;
  for (int l = 0; l < 2; ++l) {
    auto [m, s] = moments(f.E0, f.h.path.select(1, l), f.h.clusters(l));
    means += (m - obj.target_mean[std::size_t(l)]).pow(2).sum(1).mean().item<double>();
  }
  EXPECT_NEAR(at0, means / obj.scale2, 1e-4 * at0);
}

TEST(HcmaSwitches, TheMapFitsTheSmoothedMeansWhenAsked) {
  auto f = fixture();
  f.opt.target_fit = "smoothed";
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  // The normal equations of the ridge fit on μ̃ of the clustered tokens: Xᵀ(XA − Y) = −r A.
  auto fit = f.h.clustered.nonzero().flatten();
  auto X = torch::cat({obj.smoothed_mu.index_select(0, fit), torch::ones({fit.numel(), 1})}, 1).to(torch::kFloat64);
  auto Y = f.E0.index_select(0, fit).to(torch::kFloat64);
  auto XtX = torch::mm(X.t(), X);
  const double ridge = 1e-3 * XtX.trace().item<double>() / 6.0;
  auto A = obj.map.to(torch::kFloat64);
  auto residual = torch::mm(X.t(), torch::mm(X, A) - Y) + ridge * A;
  EXPECT_LT(residual.abs().max().item<double>(), 1e-4 * torch::mm(X.t(), Y).abs().max().item<double>());
  f.opt.target_fit = "raw";
  EXPECT_FALSE(HcmaObjective(f.E0, f.stats, f.h, f.opt).map.equal(obj.map));
}

TEST(HcmaSwitches, TheKlBatchCanLeaveRareTokensOutOrWeightByFrequency) {
  auto f = fixture();
  f.opt.token_batch = 500;  // larger than every pool: "uniform" and "frequent" take the whole pool
  std::map<std::string, torch::Tensor> drawn;
  for (const char* kind : {"uniform", "frequent", "weighted"}) {
    f.opt.kl_batch = kind;
    HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    auto grad = torch::zeros_like(f.E0);
    obj.step(f.E0, gen, grad);
    drawn[kind] = obj.kl_pool;
    if (std::string(kind) == "frequent") {
      EXPECT_TRUE(f.h.clustered.index_select(0, obj.kl_pool).all().item<bool>());
      EXPECT_EQ(obj.kl_pool.numel(), obj.has_neighbours.logical_and(f.h.clustered).sum().item<std::int64_t>());
    }
    if (std::string(kind) == "weighted") {
      EXPECT_TRUE((f.stats.counts.index_select(0, obj.kl_pool) > 0).all().item<bool>());
      // full_terms' KL is the frequency-weighted mean of the per-token KL.
      f.opt.kl_batch = "uniform";
      HcmaObjective u(f.E0, f.stats, f.h, f.opt);
      auto E = f.E0 + 0.05 * torch::randn(f.E0.sizes());
      double num = 0, den = 0;
      auto En = E / E.norm(2, 1, true);
      for (std::int64_t i = 0; i < obj.kl_pool.numel(); ++i) {
        const auto t = obj.kl_pool[i].item<std::int64_t>();
        const double w = f.stats.counts[t].item<double>();
        auto ok = u.valid[t];
        auto ids = u.neighbours[t].masked_select(ok);
        auto pe = torch::softmax(torch::mv(En.index_select(0, ids), En[t]) / 0.1, 0);
        auto pc = u.p_ctx[t].masked_select(ok);
        num += w * (pc * (pc.log() - pe.log())).sum().item<double>();
        den += w;
      }
      EXPECT_NEAR(obj.full_terms(E).at("nb").item<double>(), num / den, 1e-5);
    }
  }
  EXPECT_LT(drawn["frequent"].numel(), drawn["uniform"].numel());
}

TEST(HcmaSwitches, WithinLeafCosineOfRareRowsByHand) {
  // Leaf 0: rare rows (1,0), (1,0), (0,1): ordered pairs 6, cosines summing to 2.
  // Leaf 1: rare rows (1,1), (-1,-1): 2 pairs of cosine -1. Leaf 2: one rare row, no pairs.
  // Frequent rows (not selected) anywhere change nothing.
  auto E = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}, {-1.0, -1.0}, {3.0, 1.0}, {5.0, 5.0}, {9.0, -2.0}});
  auto leaf = torch::tensor({0, 0, 0, 1, 1, 2, 1, 0}, torch::kLong);
  auto rare = torch::tensor({1, 1, 1, 1, 1, 1, 0, 0}, torch::kBool);
  auto c = within_leaf_cosine(E, leaf, rare);
  EXPECT_EQ(c.rows, 6);
  EXPECT_EQ(c.leaves, 2);
  EXPECT_EQ(c.pairs, 8);
  EXPECT_NEAR(c.mean_cosine, (2.0 - 2.0) / 8.0, 1e-12);
  // Collapse: every rare row of a leaf on one direction gives 1.
  auto collapsed = E.clone();
  collapsed[1] = torch::tensor({2.0, 0.0});
  collapsed[2] = torch::tensor({0.5, 0.0});
  collapsed[4] = torch::tensor({3.0, 3.0});
  EXPECT_NEAR(within_leaf_cosine(collapsed, leaf, rare).mean_cosine, 1.0, 1e-12);
  // Only leaf 0: 2/6.
  EXPECT_NEAR(within_leaf_cosine(E, leaf, rare.logical_and(leaf == 0)).mean_cosine, 1.0 / 3.0, 1e-12);
  // A zero row counts as cosine 0 with everything.
  auto z = E.clone();
  z[0] = torch::zeros({2});
  EXPECT_NEAR(within_leaf_cosine(z, leaf, rare.logical_and(leaf == 0)).mean_cosine, 0.0, 1e-12);

  // The alignment reports it for rare and frequent rows, before and after.
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  auto r = align_embeddings(net, s, small("hcma", 10));
  const auto& rc = r.report["rare_collapse"];
  EXPECT_EQ(rc["min_count"].get<std::int64_t>(), 3);
  EXPECT_GT(rc["rare"]["rows"].get<std::int64_t>(), 0);
  EXPECT_GT(rc["frequent"]["rows"].get<std::int64_t>(), 0);
  EXPECT_NE(rc["rare"]["before"].get<double>(), rc["rare"]["after"].get<double>());
}

struct Interrupted {};

// The loop stopped after a checkpoint and run again gives the uninterrupted result bit for bit:
// E, the logged terms and the report's objective; the file goes away at the end; another run's
// file (other options) is not resumed.
TEST(HcmaSwitches, ResumingFromACheckpointIsBitIdentical) {
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  std::vector<AlignOptions> cases;
  {
    auto o = small("hcma", 12);
    o.hcma.terms.kl_batch = "weighted";  // the loop's generator matters
    o.hcma.terms.trust_radius = 0.1;
    o.hcma.terms.freeze_min_count = 100;
    cases.push_back(o);
    o.loop.optimizer = "sgd";
    o.hcma.lambda_lm = 0.3;
    cases.push_back(o);
    cases.push_back(small("emb-noise", 12));  // noise from the loop's generator, LM batches by step
  }
  int k = 0;
  for (auto o : cases) {
    o.loop.checkpoint_every = 4;
    o.loop.log_every = 3;
    const std::string a = dir / ("a" + std::to_string(k)), b = dir / ("b" + std::to_string(k));
    ++k;
    std::filesystem::create_directories(a);
    std::filesystem::create_directories(b);
    auto full = align_embeddings(net, s, o, a + "/log.jsonl");
    EXPECT_FALSE(std::filesystem::exists(a + "/loop_state.pt"));
    EXPECT_FALSE(full.report.contains("resumed_from_step"));
    EXPECT_THROW(align_embeddings(net, s, o, b + "/log.jsonl", [](int step) {
                   if (step == 8) throw Interrupted{};
                 }),
                 Interrupted);
    ASSERT_TRUE(std::filesystem::exists(b + "/loop_state.pt"));
    torch::manual_seed(999);  // the default generator's state comes from the checkpoint, not from here
    auto resumed = align_embeddings(net, s, o, b + "/log.jsonl");
    EXPECT_EQ(resumed.report["resumed_from_step"].get<int>(), 8) << o.method;
    EXPECT_TRUE(resumed.E.equal(full.E)) << o.method << " " << o.loop.optimizer;
    const auto& lf = full.report["log"], &lr = resumed.report["log"];
    ASSERT_EQ(lf.size(), lr.size());
    for (std::size_t i = 0; i < lf.size(); ++i)
      for (auto& [key, v] : lf[i].items())
        if (key != "elapsed_s") EXPECT_EQ(v, lr[i][key]) << o.method << " line " << i << " " << key;
    if (o.method == "hcma") EXPECT_EQ(full.report["terms_final"], resumed.report["terms_final"]);
    EXPECT_FALSE(std::filesystem::exists(b + "/loop_state.pt"));
  }
  // A checkpoint of other options is ignored: the run starts afresh.
  auto o = small("hcma", 12);
  o.loop.checkpoint_every = 4;
  const std::string c = dir / "c";
  std::filesystem::create_directories(c);
  EXPECT_THROW(align_embeddings(net, s, o, c + "/log.jsonl", [](int step) {
                 if (step == 4) throw Interrupted{};
               }),
               Interrupted);
  o.seed = 2;
  auto fresh = align_embeddings(net, s, o, c + "/log.jsonl");
  EXPECT_FALSE(fresh.report.contains("resumed_from_step"));
  // Checkpoints need somewhere to live.
  EXPECT_THROW(align_embeddings(net, s, o), Error);
  o.loop.checkpoint_every = 0;
  EXPECT_TRUE(fresh.E.equal(align_embeddings(net, s, o).E));
}

TEST(HcmaShrink, ShrinkToCentroidByHand) {
  auto E = torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}, {4.0f, 4.0f}});
  auto leaf = torch::tensor({0, 0, 1}, torch::kLong);
  auto m = torch::tensor({{1.0f, 1.0f}, {2.0f, 0.0f}});
  auto S = shrink_to_centroid(E, leaf, m, 0.25);
  EXPECT_TRUE(S.equal(torch::tensor({{1.0f, 0.25f}, {0.25f, 1.75f}, {3.5f, 3.0f}})));
  EXPECT_EQ(S.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(shrink_to_centroid(E, leaf, m, 0).equal(E));
  EXPECT_TRUE(shrink_to_centroid(E, leaf, m, 1).equal(m.index_select(0, leaf)));
  EXPECT_THROW(shrink_to_centroid(E, leaf, m, 1.5), Error);
}

TEST(HcmaShrink, TheMethodUsesHcmaHierarchyAndChangesOnlyTheInputTable) {
  TempDir dir;
  torch::manual_seed(8);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  auto o = small("shrink", 1);
  o.shrink.a = 0.4;
  auto r = align_embeddings(net, s, o);
  // By hand: the same statistics and hierarchy, then the formula.
  const auto E0 = net->wte->weight.detach().clone();
  auto stats = collect_context_stats(net, s, -1, 0, 2);
  auto h = build_hierarchy(E0, stats.mean, stats.counts, o.hcma.hierarchy);
  auto leaf = h.path.select(1, 1);
  auto want = 0.6 * E0.to(torch::kFloat64) + 0.4 * h.centroid_e[1].to(torch::kFloat64).index_select(0, leaf);
  EXPECT_TRUE(r.E.equal(want.to(torch::kFloat32)));
  EXPECT_EQ(r.report["a"].get<double>(), 0.4);
  EXPECT_GT(r.report["hierarchy"]["clustered_tokens"].get<int>(), 0);
  EXPECT_EQ(r.report["movement"].size(), 5u);
  // The guarantee, on the files.
  const std::string src = dir / "src.safetensors", out = dir / "shrink.safetensors";
  model::save_checkpoint(src, net, {}, json::object());
  auto aligned = with_input_embeddings(net, r.E);
  model::save_checkpoint(out, aligned, {}, json::object());
  EXPECT_TRUE(frozen_weight_violations(model::read_checkpoint(src), model::read_checkpoint(out)).empty());
  // One result for every seed.
  o.seed = 5;
  EXPECT_TRUE(align_embeddings(net, s, o).E.equal(r.E));
}

// The bisection behind the matched shrink (issue 15, item 2), on functions whose root is known.
TEST(HcmaShrink, BisectionReachesTheTargetWithinTolerance) {
  auto cube = [](double x) { return x * x * x; };
  auto b = bisect_increasing(cube, 0.2, 0, 1, 1e-5, 40);
  EXPECT_TRUE(b.reached);
  EXPECT_LE(std::abs(b.value - 0.2), 1e-5);
  EXPECT_NEAR(b.x, std::cbrt(0.2), 1e-4);
  EXPECT_EQ(b.value, cube(b.x));
  EXPECT_EQ(b.trace.front(), std::make_pair(0.0, 0.0));  // lo first, then hi, then midpoints
  EXPECT_EQ(b.trace[1], std::make_pair(1.0, 1.0));
  EXPECT_EQ(b.trace[2], std::make_pair(0.5, 0.125));
  EXPECT_LE(b.trace.size(), 42u);
  // Too few steps: the best midpoint so far, not within tolerance.
  auto few = bisect_increasing(cube, 0.2, 0, 1, 1e-9, 3);
  EXPECT_FALSE(few.reached);
  EXPECT_EQ(few.trace.size(), 5u);
  EXPECT_EQ(few.x, 0.625);  // 0.5 -> 0.125, 0.75 -> 0.42, 0.625 -> 0.244: the closest
  // Targets outside [f(lo), f(hi)]: the end, reached only within tolerance.
  auto below = bisect_increasing(cube, -0.5, 0, 1, 1e-3, 10);
  EXPECT_EQ(below.x, 0);
  EXPECT_FALSE(below.reached);
  auto above = bisect_increasing(cube, 1.0005, 0, 1, 1e-3, 10);
  EXPECT_EQ(above.x, 1);
  EXPECT_TRUE(above.reached);
}

// The matched shrink: a model shrunk by hand at a = 0.6 is the model to match; the method finds
// an a whose clean loss increase on the validation shard equals it within tolerance, checked by
// an independent loss (the untied aligned GPT's own loss over the same windows), and refuses a
// test split. The report records a and both losses.
TEST(HcmaShrink, MatchedShrinkMeetsTheCleanLossIncreaseOnValidation) {
  TempDir dir;
  torch::manual_seed(8);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  const std::string val = write_stream(dir / "val.bin", 1500, 40, 11);
  auto o = small("shrink", 1);
  o.shrink.a = 0.6;
  const auto hand = align_embeddings(net, s, o);
  const std::string target = dir / "target.safetensors";
  auto target_model = with_input_embeddings(net, hand.E);
  model::save_checkpoint(target, target_model, {}, json::object());

  // The clean loss of an aligned model over every window of the validation shard, from its own
  // loss function (not the method's code path).
  const data::TokenStream v({val});
  auto independent_loss = [&](model::GPT& m) {
    torch::NoGradGuard ng;
    const std::size_t n = v.size() - 1;
    const std::int64_t T = 16;
    double sum = 0;
    for (std::size_t start = 0; start < n; start += T) {
      const std::int64_t len = std::min<std::int64_t>(T, std::int64_t(n - start));
      std::vector<std::int64_t> ids(std::size_t(len + 1));
      v.read(start, std::size_t(len + 1), ids.data());
      auto t = torch::tensor(ids).unsqueeze(0);
      sum += m->loss(t.slice(1, 0, len), t.slice(1, 1)).item<double>() * double(len);
    }
    return sum / double(n);
  };
  const double original = independent_loss(net), matched = independent_loss(target_model);
  ASSERT_GT(std::abs(matched - original), 0.005);  // the shrink changes the loss: something to match

  auto m = small("shrink", 1);
  m.shrink.match_checkpoint = target;
  m.shrink.match_shard = val;
  m.shrink.match_tokens = 0;
  m.shrink.match_tol = 1e-4;
  EXPECT_FALSE(m.deterministic());
  const auto r = align_embeddings(net, s, m);
  const json& rep = r.report.at("match");
  EXPECT_TRUE(rep["reached"].get<bool>()) << rep.dump();
  EXPECT_EQ(rep["a"], r.report["a"]);
  EXPECT_NEAR(rep["original_val_loss"].get<double>(), original, 1e-4);
  EXPECT_NEAR(rep["matched_val_loss"].get<double>(), matched, 1e-4);
  auto result_model = with_input_embeddings(net, r.E);
  const double achieved = independent_loss(result_model);
  EXPECT_NEAR(achieved - original, matched - original, 1e-4 + 1e-5) << "a = " << rep["a"];
  EXPECT_NEAR(rep["shrink_val_loss"].get<double>(), achieved, 1e-4);
  // The result is the shrink formula at the chosen a, as `--set a=<a>` gives it.
  auto plain = small("shrink", 1);
  plain.shrink.a = rep["a"].get<double>();
  EXPECT_TRUE(align_embeddings(net, s, plain).E.equal(r.E));

  // Never on a test split; the two options go together and only with shrink.
  const std::string test = dir / "test.bin";
  std::filesystem::copy_file(val, test);
  m.shrink.match_shard = test;
  EXPECT_NE(test_util::error_of([&] { align_embeddings(net, s, m); }).find("never on a test split"), std::string::npos);
  auto msg = test_util::error_of([&] {
    AlignOptions::from_json({{"method", "shrink"}, {"match_checkpoint", "x.safetensors"}}, "a.json");
  });
  EXPECT_NE(msg.find("go together"), std::string::npos) << msg;
  msg = test_util::error_of([&] {
    AlignOptions::from_json({{"method", "hcma"}, {"match_checkpoint", "x"}, {"match_shard", "v.bin"}}, "a.json");
  });
  EXPECT_NE(msg.find("option of the shrink method"), std::string::npos) << msg;
}

// One calibration stream for every method (issue 15, item 3): with calib_tokens = N, the LM-based
// baselines' batches and HCMA's statistics read only the first N tokens, so each result equals the
// same method's on a shard that holds just those N tokens (built independently, by copying them).
TEST(HcmaShrink, EveryMethodReadsOnlyTheFirstCalibTokens) {
  TempDir dir;
  torch::manual_seed(8);
  model::GPT net(tiny());
  const std::string full_path = write_stream(dir / "c.bin", 3000, 40);
  data::TokenStream full({full_path});
  const std::size_t N = 900;
  std::vector<std::int64_t> head(N);
  full.read(0, N, head.data());
  data::write_shard(dir / "head.bin", std::vector<std::uint32_t>(head.begin(), head.end()), 40);
  data::TokenStream first({dir / "head.bin"});
  for (const char* method : {"emb-finetune", "emb-noise", "cosreg", "hcma"}) {
    auto o = small(method, 4);
    o.hcma.lambda_lm = std::string(method) == "hcma" ? 0.5 : 0.0;  // HCMA's LM term reads the batches too
    auto capped = o;
    capped.calib_tokens = N;
    const auto a = align_embeddings(net, full, capped).E;
    const auto b = align_embeddings(net, first, o).E;
    EXPECT_TRUE(a.equal(b)) << method;
    EXPECT_FALSE(a.equal(align_embeddings(net, full, o).E)) << method;  // the cap matters: the check can fail
  }
}

TEST(HcmaSwitches, OptionErrorsNameTheKeyAndWhatIsAllowed) {
  auto msg = [](const json& j) { return test_util::error_of([&] { AlignOptions::from_json(j, "a.json"); }); };
  const std::vector<std::pair<json, std::vector<std::string>>> bad = {
      {{{"optimizer", "rmsprop"}}, {"a.json", "optimizer", "adam or sgd"}},
      {{{"checkpoint_every", -1}}, {"checkpoint_every", "non-negative"}},
      {{{"trust_radius", -0.5}}, {"trust_radius", "non-negative"}},
      {{{"freeze_min_count", -3}}, {"freeze_min_count", "non-negative"}},
      {{{"target_fit", "mu"}}, {"target_fit", "raw or smoothed"}},
      {{{"target_spread", "wide"}}, {"target_spread", "mapped, members or sigma"}},
      {{{"kl_batch", "rare"}}, {"kl_batch", "uniform, frequent or weighted"}},
      {{{"method", "shrink"}, {"a", 1.5}}, {"'a'", "in [0, 1]"}},
      {{{"trust_radus", 0.1}}, {"trust_radus"}},
  };
  for (const auto& [j, parts] : bad) {
    const auto m = msg(j);
    ASSERT_FALSE(m.empty()) << j.dump() << " accepted";
    for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << j.dump() << ": " << m;
  }
  EXPECT_NO_THROW(AlignOptions::from_json({{"method", "shrink"}, {"a", 0.0}}, "a.json"));
  EXPECT_NO_THROW(AlignOptions::from_json({{"optimizer", "sgd"}, {"kl_batch", "frequent"}, {"target_spread", "sigma"}}, "a.json"));
}

}  // namespace
}  // namespace structlm::hcma
