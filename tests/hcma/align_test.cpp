// HCMA's pieces against independent computations: the contextual statistics against a direct
// loop over hidden_states, k-means and the hierarchy on data with a known answer, the objective's
// terms against formulas written out here, the baselines against their definitions, and the
// loop's guarantee that only the input table changes.
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "hcma/align.h"
#include "hcma/align_method.h"
#include "hcma/baselines.h"
#include "hcma/context_stats.h"
#include "hcma/frozen_check.h"
#include "hcma/objective.h"
#include "hcma/hierarchy.h"
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

TEST(HcmaContextStats, MatchesADirectLoopOverHiddenStates) {
  TempDir dir;
  torch::manual_seed(1);
  model::GPT net(tiny());
  data::TokenStream s({write_stream(dir / "c.bin", 16 * 5 + 7, 40)});  // 5 full windows and a short one
  auto stats = collect_context_stats(net, s, 1, 0, 2);
  EXPECT_EQ(stats.layer, 1);
  EXPECT_EQ(stats.tokens, 87);

  // Direct: every window on its own, every position, float64 sums per token.
  torch::NoGradGuard ng;
  std::vector<std::int64_t> ids(87);
  s.read(0, 87, ids.data());
  std::map<std::int64_t, std::vector<torch::Tensor>> states;
  for (std::size_t start = 0; start < 87; start += 16) {
    const std::int64_t len = std::min<std::int64_t>(16, 87 - std::int64_t(start));
    auto idx = torch::tensor(std::vector<std::int64_t>(ids.begin() + start, ids.begin() + start + len)).unsqueeze(0);
    auto h = net->hidden_states(idx, 1)[0].to(torch::kFloat64);
    for (std::int64_t t = 0; t < len; ++t) states[ids[start + t]].push_back(h[t]);
  }
  for (std::int64_t v = 0; v < 40; ++v) {
    auto it = states.find(v);
    const std::int64_t n = it == states.end() ? 0 : std::int64_t(it->second.size());
    ASSERT_EQ(stats.counts[v].item<std::int64_t>(), n) << "token " << v;
    if (n == 0) {
      EXPECT_EQ(stats.mean[v].abs().sum().item<double>(), 0);
      continue;
    }
    auto X = torch::stack(it->second);
    EXPECT_TRUE(torch::allclose(stats.mean[v].to(torch::kFloat64), X.mean(0), 1e-5, 1e-5)) << "token " << v;
    if (n >= 2) EXPECT_TRUE(torch::allclose(stats.var[v].to(torch::kFloat64), X.var(0, true), 1e-4, 1e-5)) << "token " << v;
  }
  EXPECT_EQ(default_layer(tiny()), 1);
  EXPECT_THROW(collect_context_stats(net, s, 3), Error);
}

// Points around k well-separated directions: spherical k-means must find exactly those groups.
TEST(HcmaHierarchy, KMeansRecoversSeparatedDirections) {
  torch::manual_seed(2);
  const int k = 4, per = 30, D = 8;
  auto centres = torch::eye(D).slice(0, 0, k);
  std::vector<torch::Tensor> rows;
  std::vector<int> truth;
  for (int c = 0; c < k; ++c)
    for (int i = 0; i < per; ++i) {
      rows.push_back(centres[c] + 0.05 * torch::randn({D}));
      truth.push_back(c);
    }
  auto X = torch::stack(rows);
  X = X / X.norm(2, 1, true);
  auto labels = spherical_kmeans(X, k, 30, 7);
  ASSERT_EQ(labels.max().item<std::int64_t>(), k - 1);
  std::map<int, std::set<std::int64_t>> found;
  for (int i = 0; i < k * per; ++i) found[truth[std::size_t(i)]].insert(labels[i].item<std::int64_t>());
  std::set<std::int64_t> used;
  for (auto& [c, s] : found) {
    EXPECT_EQ(s.size(), 1u) << "group " << c << " split";
    used.insert(*s.begin());
  }
  EXPECT_EQ(used.size(), std::size_t(k));
  EXPECT_TRUE(labels.equal(spherical_kmeans(X, k, 30, 7)));  // deterministic
  EXPECT_EQ(spherical_kmeans(X.slice(0, 0, 3), 8, 5, 1).max().item<std::int64_t>(), 2);  // k > N: N clusters
}

TEST(HcmaHierarchy, PathsParentsSizesAndRareTokensJoiningTheNearestLeaf) {
  torch::manual_seed(3);
  const std::int64_t V = 200, d = 6;
  auto E = torch::randn({V, d}), mu = torch::randn({V, d});
  auto counts = torch::randint(0, 30, {V}, torch::kLong);
  HierarchyOptions o;
  o.branching = 3;
  o.depth = 3;
  o.min_count = 10;
  auto h = build_hierarchy(E, mu, counts, o);
  ASSERT_EQ(h.path.size(0), V);
  ASSERT_EQ(h.path.size(1), 3);
  EXPECT_EQ(h.clusters(0), 3);
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(h.size[std::size_t(l)].sum().item<std::int64_t>(), V);
    EXPECT_GE(h.size[std::size_t(l)].min().item<std::int64_t>(), 1);
  }
  // A token's cluster at level l is the parent of its cluster at level l + 1.
  for (int l = 1; l < 3; ++l)
    EXPECT_TRUE(h.parent[std::size_t(l)].index_select(0, h.path.select(1, l)).equal(h.path.select(1, l - 1)));
  // Rare tokens sit in the leaf whose normalised embedding centroid is nearest by cosine.
  auto clustered = counts >= 10;
  EXPECT_TRUE(h.clustered.equal(clustered));
  auto En = E / E.norm(2, 1, true);
  const auto L = h.clusters(2);
  auto dirs = torch::zeros({L, d});
  for (std::int64_t t = 0; t < V; ++t)
    if (clustered[t].item<bool>()) dirs[h.path[t][2].item<std::int64_t>()] += En[t];
  dirs = dirs / dirs.norm(2, 1, true).clamp_min(1e-12);
  for (std::int64_t t = 0; t < V; ++t)
    if (!clustered[t].item<bool>())
      EXPECT_EQ(h.path[t][2].item<std::int64_t>(), torch::mv(dirs, En[t]).argmax().item<std::int64_t>()) << "token " << t;
  // Centroids: means over the clustered members.
  for (std::int64_t c = 0; c < L; ++c) {
    auto in = (h.path.select(1, 2) == c).logical_and(clustered);
    if (in.sum().item<std::int64_t>() == 0) continue;
    EXPECT_TRUE(torch::allclose(h.centroid_mu[2][c], mu.index({in}).mean(0), 1e-5, 1e-5));
  }
  EXPECT_THROW(build_hierarchy(E, mu, torch::zeros({V}, torch::kLong), o), Error);  // nothing frequent
}

TEST(HcmaObjective, DiagonalW2IsTheClosedForm) {
  // N((0,0), diag(1,4)) vs N((3,4), diag(4,1)): |m|^2 = 25, |s1 - s2|^2 = (1-2)^2 + (2-1)^2 = 2.
  auto w = diagonal_w2_squared(torch::tensor({{0.0, 0.0}}), torch::tensor({{1.0, 2.0}}), torch::tensor({{3.0, 4.0}}),
                               torch::tensor({{2.0, 1.0}}));
  EXPECT_DOUBLE_EQ(w.item<double>(), 27.0);
}

TEST(HcmaObjective, NeighbourhoodsSmoothingAndTermsMatchTheirFormulas) {
  auto f = fixture();
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  const std::int64_t V = f.E0.size(0);
  auto leaf = f.h.path.select(1, 1), pool = f.h.path.select(1, 0);
  for (std::int64_t t = 0; t < V; ++t) {
    // μ̃ = (n μ + κ m_leaf) / (n + κ)
    const double n = f.stats.counts[t].item<double>();
    auto want = (n * f.stats.mean[t] + 10 * f.h.centroid_mu[1][leaf[t].item<std::int64_t>()]) / (n + 10);
    ASSERT_TRUE(torch::allclose(obj.smoothed_mu[t], want, 1e-5, 1e-6)) << t;
  }
  for (std::int64_t t = 0; t < V; ++t) {
    auto ok = obj.valid[t];
    if (!ok.any().item<bool>()) continue;
    // Candidates: the nearest by μ̃ among the others of the same pool (the leaf's parent).
    auto ids = obj.neighbours[t].masked_select(ok);
    std::vector<std::pair<double, std::int64_t>> all;
    for (std::int64_t j = 0; j < V; ++j)
      if (j != t && pool[j].item<std::int64_t>() == pool[t].item<std::int64_t>())
        all.push_back({(obj.smoothed_mu[t] - obj.smoothed_mu[j]).pow(2).sum().item<double>(), j});
    std::sort(all.begin(), all.end());
    ASSERT_EQ(ids.numel(), std::min<std::int64_t>(6, std::int64_t(all.size())));
    auto d = torch::empty({ids.numel()});
    for (std::int64_t i = 0; i < ids.numel(); ++i) {
      EXPECT_NEAR(all[std::size_t(i)].first, (obj.smoothed_mu[t] - obj.smoothed_mu[ids[i].item<std::int64_t>()]).pow(2).sum().item<double>(), 1e-4);
      d[i] = (obj.smoothed_mu[t] - obj.smoothed_mu[ids[i].item<std::int64_t>()]).pow(2).sum();
    }
    auto p = torch::softmax(-d / (0.2 * d.mean()), 0);
    ASSERT_TRUE(torch::allclose(obj.p_ctx[t].masked_select(ok), p, 1e-4, 1e-6)) << t;
  }

  // The terms written out here, over every token with candidates, at a moved table.
  auto E = f.E0 + 0.05 * torch::randn(f.E0.sizes());
  auto terms = obj.full_terms(E);
  double kl = 0;
  std::int64_t rows = 0;
  auto En = E / E.norm(2, 1, true);
  for (std::int64_t t = 0; t < V; ++t) {
    auto ok = obj.valid[t];
    if (!ok.any().item<bool>()) continue;
    auto ids = obj.neighbours[t].masked_select(ok);
    auto pe = torch::softmax(torch::mv(En.index_select(0, ids), En[t]) / 0.1, 0);
    auto pc = obj.p_ctx[t].masked_select(ok);
    kl += (pc * (pc.log() - pe.log())).sum().item<double>();
    ++rows;
  }
  EXPECT_NEAR(terms.at("nb").item<double>(), kl / double(rows), 1e-5);
  const double e2 = f.E0.pow(2).sum(1).mean().item<double>();
  const auto n = f.stats.counts.to(torch::kFloat32);
  auto rho = 0.05 + 0.95 * n / (n + 10);
  EXPECT_NEAR(terms.at("p").item<double>(), (rho * (E - f.E0).pow(2).sum(1)).mean().item<double>() / e2, 1e-6);
  // Hierarchy: per level, mean over clusters of W2² between the cluster's E moments and the
  // mapped targets.
  double hw = 0;
  for (int l = 0; l < 2; ++l) {
    auto lab = f.h.path.select(1, l);
    double sum = 0;
    int used = 0;
    for (std::int64_t c = 0; c < f.h.clusters(l); ++c) {
      auto in = lab == c;
      auto X = E.index({in});
      auto m = X.mean(0), s = X.var(0, false).add(1e-12).sqrt();
      sum += ((m - obj.target_mean[std::size_t(l)][c]).pow(2).sum() + (s - obj.target_std[std::size_t(l)][c]).pow(2).sum()).item<double>();
      ++used;
    }
    hw += sum / used;
  }
  EXPECT_NEAR(terms.at("h").item<double>(), hw / e2, 1e-4 * std::max(1.0, hw / e2));
  EXPECT_DOUBLE_EQ(obj.full_terms(f.E0).at("p").item<double>(), 0.0);
}

// step() computes the gradient without a graph over E (closed forms for the hierarchy and the
// proximity): it must equal autograd through terms() on the same batch.
TEST(HcmaObjective, ClosedFormGradientsEqualAutograd) {
  auto f = fixture();
  f.opt.token_batch = 20;  // a real sample, not every token
  f.opt.lambda_nb = 0.7;
  f.opt.lambda_h = 1.3;
  f.opt.lambda_p = 0.9;
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  auto E32 = (f.E0 + 0.05 * torch::randn(f.E0.sizes())).requires_grad_(true);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(11), g2 = at::make_generator<at::CPUGeneratorImpl>(11);
  auto t = obj.terms(E32, g1);
  (t.at("nb") + t.at("h") + t.at("p")).backward();
  auto grad = torch::zeros_like(E32);
  auto v = obj.step(E32.detach(), g2, grad);
  EXPECT_NEAR(v.at("nb"), t.at("nb").item<double>(), 1e-6);
  EXPECT_NEAR(v.at("h"), t.at("h").item<double>(), 1e-5 * std::max(1.0, v.at("h")));
  EXPECT_NEAR(v.at("p"), t.at("p").item<double>(), 1e-7);
  const double scale = E32.grad().abs().max().item<double>();
  ASSERT_GT(scale, 0);
  EXPECT_LT((grad - E32.grad()).abs().max().item<double>(), 1e-4 * scale);
}

TEST(HcmaObjective, TheLinearMapIsTheLeastSquaresFitOnFrequentTokens) {
  auto f = fixture();
  // Embeddings that are an exact affine function of μ on every token: the fit recovers it.
  auto A = torch::randn({5, 5}) * 0.1;
  auto b = torch::randn({5}) * 0.1;
  f.E0 = torch::mm(f.stats.mean, A) + b;
  HcmaObjective obj(f.E0, f.stats, f.h, f.opt);
  auto fit = f.h.clustered.nonzero().flatten();
  auto pred = torch::mm(torch::cat({f.stats.mean.index_select(0, fit), torch::ones({fit.numel(), 1})}, 1), obj.map);
  // The ridge term is tiny (1e-3 of the mean diagonal): the fit is close, not exact.
  EXPECT_LT((pred - f.E0.index_select(0, fit)).abs().max().item<double>(), 0.02);
}

TEST(HcmaBaselines, AbttWhiteningAndMeanCosineFollowTheirDefinitions) {
  torch::manual_seed(5);
  auto E = torch::randn({300, 10}, torch::kFloat64) * torch::linspace(0.2, 3, 10, torch::kFloat64) + 1.5;
  auto A = all_but_the_top(E, 2);
  EXPECT_LT(A.mean(0).abs().max().item<double>(), 1e-10);
  auto X = E - E.mean(0, true);
  auto U = std::get<2>(torch::linalg_svd(X, false)).slice(0, 0, 2);
  EXPECT_LT(torch::mm(A, U.t()).abs().max().item<double>(), 1e-9);  // nothing left on the top directions
  // Everything orthogonal to them is untouched.
  EXPECT_TRUE(torch::allclose(A, X - torch::mm(torch::mm(X, U.t()), U), 1e-9, 1e-9));
  EXPECT_EQ(default_abtt_directions(768), 8);
  EXPECT_EQ(default_abtt_directions(64), 1);

  auto W = whiten(E);
  auto cov = torch::mm((W - W.mean(0)).t(), W - W.mean(0)) / 299.0;
  auto diag = cov.diag();
  EXPECT_LT((diag / diag.mean() - 1).abs().max().item<double>(), 1e-8);  // equal variance everywhere
  EXPECT_LT((cov - torch::diag(diag)).abs().max().item<double>(), 1e-8 * diag.mean().item<double>());  // decorrelated
  EXPECT_NEAR(W.norm(2, 1).mean().item<double>(), E.norm(2, 1).mean().item<double>(), 1e-9);

  auto S = torch::randn({25, 4}, torch::kFloat64);
  auto Sn = S / S.norm(2, 1, true);
  auto C = torch::mm(Sn, Sn.t());
  EXPECT_NEAR(mean_pairwise_cosine(S).item<double>(), ((C.sum() - C.trace()) / (25.0 * 24.0)).item<double>(), 1e-12);
}

// `method` on the tiny model: a short loop, a hierarchy and neighbourhoods small enough for 40 ids.
AlignOptions small_options(const std::string& method, int steps) {
  AlignOptions o;
  o.method = method;
  o.loop.steps = steps;
  o.loop.batch_size = 2;
  o.hcma.hierarchy.branching = 2;
  o.hcma.hierarchy.depth = 2;
  o.hcma.hierarchy.min_count = 3;
  o.hcma.terms.neighbours = 4;
  return o;
}

TEST(HcmaAlign, EveryMethodChangesOnlyTheInputTableAndLowersItsObjective) {
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny(true));
  const auto before = net->named_parameters(true);
  std::map<std::string, torch::Tensor> original;
  for (auto& p : before) original[p.key()] = p.value().detach().clone();
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  for (const auto& method : method_names()) {
    AlignOptions o = small_options(method, 30);
    o.loop.lr = 0.05;
    auto r = align_embeddings(net, s, o);
    ASSERT_EQ(r.E.sizes(), original["wte.weight"].sizes()) << method;
    EXPECT_GT((r.E - original["wte.weight"]).abs().max().item<double>(), 0) << method << " left E as it was";
    // The source model is untouched.
    for (auto& p : net->named_parameters(true)) EXPECT_TRUE(p.value().equal(original[p.key()])) << method << " " << p.key();
    if (o.trained()) {
      const auto& log = r.report["log"];
      ASSERT_GE(log.size(), 2u);
      EXPECT_LT(log.back()["total"].get<double>(), log.front()["total"].get<double>()) << method;
    }
    EXPECT_EQ(r.report["movement"].size(), 5u);
    // The aligned model: untied, E in, the original matrix out, everything else equal.
    auto aligned = with_input_embeddings(net, r.E);
    EXPECT_FALSE(aligned->config().tied);
    EXPECT_TRUE(aligned->wte->weight.equal(r.E));
    EXPECT_TRUE(aligned->lm_head->weight.equal(original["wte.weight"]));
    for (auto& p : aligned->named_parameters(true))
      if (p.key() != "wte.weight" && p.key() != "lm_head.weight") EXPECT_TRUE(p.value().equal(original[p.key()])) << p.key();
  }
  AlignOptions hcma = small_options("hcma", 40);
  hcma.loop.batch_size = AlignOptions().loop.batch_size;  // as before the helper: the default batch
  auto r = align_embeddings(net, s, hcma);
  const auto& i = r.report["terms_initial"], &f = r.report["terms_final"];
  EXPECT_LT(f["nb"].get<double>() + f["h"].get<double>() + f["p"].get<double>(),
            i["nb"].get<double>() + i["h"].get<double>() + i["p"].get<double>());
  EXPECT_GT(r.report["hierarchy"]["clustered_tokens"].get<int>(), 0);
}

// The frozen model's forward passes (HCMA's statistics pass, the LM term) under bf16 autocast:
// the result stays close to fp32's (bf16 keeps ~3 significant digits in the matrix products
// only), the source model is untouched, the table comes back fp32, and the report names the
// precision. A wrong name is refused by the options, naming the file.
TEST(HcmaAlign, Bf16ForwardPassesStayCloseToFp32) {
  TempDir dir;
  torch::manual_seed(6);
  model::GPT net(tiny(true));
  const auto E_before = net->wte->weight.detach().clone();
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  AlignOptions o = small_options("hcma", 20);
  o.hcma.lambda_lm = 0.5;  // both kinds of forward pass: statistics and the LM term
  std::map<std::string, AlignResult> by;
  for (const char* p : {"fp32", "bf16"}) {
    o.precision = p;
    by[p] = align_embeddings(net, s, o);
    EXPECT_EQ(by[p].report["precision"]["name"], p);
    EXPECT_EQ(by[p].E.scalar_type(), torch::kFloat32) << p;
  }
  EXPECT_TRUE(net->wte->weight.equal(E_before));
  const auto& f32 = by["fp32"], &b16 = by["bf16"];
  EXPECT_FALSE(f32.E.equal(b16.E)) << "bf16 ran the same arithmetic as fp32";
  const double moved = (f32.E - E_before).norm().item<double>();
  EXPECT_LT((b16.E - f32.E).norm().item<double>(), 0.1 * moved);
  const auto& l32 = f32.report["log"].front(), &l16 = b16.report["log"].front();
  EXPECT_NEAR(l16["lm"].get<double>(), l32["lm"].get<double>(), 0.01 * l32["lm"].get<double>());
  try {
    AlignOptions::from_json({{"precision", "fp16"}}, "a.json");
    ADD_FAILURE() << "fp16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
  }
}

// An untied source keeps its own output matrix; the file-level check accepts both shapes and
// names what breaks the guarantee.
TEST(HcmaAlign, UntiedSourcesKeepTheirOutputAndTheFileCheckCatchesChanges) {
  TempDir dir;
  torch::manual_seed(7);
  for (bool tied : {true, false}) {
    model::GPT net(tiny(tied));
    auto E = net->wte->weight.detach() + 0.01;
    auto aligned = with_input_embeddings(net, E);
    if (!tied) EXPECT_TRUE(aligned->lm_head->weight.equal(net->lm_head->weight));
    const std::string src = dir / (tied ? "tied.safetensors" : "untied.safetensors");
    const std::string out = dir / (tied ? "tied-a.safetensors" : "untied-a.safetensors");
    model::save_checkpoint(src, net, {}, json::object());
    model::save_checkpoint(out, aligned, {}, json::object());
    EXPECT_TRUE(frozen_weight_violations(model::read_checkpoint(src), model::read_checkpoint(out)).empty()) << tied;
    // One changed bias is caught and named.
    {
      torch::NoGradGuard ng;
      aligned->blocks[0]->ln_1->bias.add_(1e-3);
    }
    model::save_checkpoint(out, aligned, {}, json::object());
    auto bad = frozen_weight_violations(model::read_checkpoint(src), model::read_checkpoint(out));
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_NE(bad[0].find("h.0.ln_1.bias"), std::string::npos) << bad[0];
  }
}

TEST(HcmaAlign, OptionsRejectUnknownKeysAndBadValues) {
  EXPECT_NO_THROW(AlignOptions::from_json({{"method", "cosreg"}, {"steps", 5}}, "a.json"));
  auto msg = [](const json& j) {
    try {
      AlignOptions::from_json(j, "a.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg({{"method", "magic"}}).find("unknown alignment method 'magic'"), std::string::npos);
  EXPECT_NE(msg({{"stepz", 3}}).find("stepz"), std::string::npos);
  EXPECT_NE(msg({{"steps", 0}}).find("steps"), std::string::npos);
  EXPECT_NE(msg({{"tau", -1.0}}).find("tau"), std::string::npos);
  EXPECT_NE(msg({{"branching", 1}}).find("branching"), std::string::npos);
  EXPECT_NE(msg({{"lambda_h", -1.0}}).find("a.json"), std::string::npos);
  auto o = AlignOptions::from_json({{"method", "hcma"}, {"depth", 2}, {"lambda_lm", 0.5}}, "a.json");
  EXPECT_EQ(AlignOptions::from_json(o.to_json(), "b.json").to_json(), o.to_json());  // round trip
}

// options.json files and configs/hcma.json are a file format: one flat object whose keys (and
// the order --help lists them in) stay as they were before the options became one struct per
// method; every key lands in its method's struct and comes back.
TEST(HcmaAlign, OptionsKeepTheirFlatFileFormatAndRoundTrip) {
  const std::vector<std::string> keys = {
      "method", "seed", "steps", "lr", "batch_size", "log_every", "optimizer", "checkpoint_every", "layer",
      "calib_tokens", "branching", "depth", "min_count", "kmeans_iterations", "neighbours", "tau", "tau_e", "kappa",
      "rho_min", "lambda_nb", "lambda_h", "lambda_p", "lambda_lm", "token_batch", "trust_radius", "freeze_min_count",
      "target_fit", "target_spread", "kl_batch", "abtt_directions", "noise", "cosreg", "a", "match_checkpoint",
      "match_shard", "match_tokens", "match_tol", "match_iterations", "precision"};
  EXPECT_EQ(AlignOptions::fields().names(), keys);
  const json defaults = AlignOptions().to_json();
  std::vector<std::string> written;
  for (auto& [k, v] : defaults.items()) written.push_back(k);
  EXPECT_EQ(std::set<std::string>(written.begin(), written.end()), std::set<std::string>(keys.begin(), keys.end()));
  const json j = {{"method", "emb-noise"}, {"seed", 7}, {"steps", 11}, {"lr", 0.5}, {"batch_size", 3}, {"log_every", 2},
                  {"optimizer", "sgd"}, {"checkpoint_every", 4}, {"layer", 1}, {"calib_tokens", 900}, {"branching", 3}, {"depth", 4}, {"min_count", 6},
                  {"kmeans_iterations", 9}, {"neighbours", 5}, {"tau", 0.3}, {"tau_e", 0.4}, {"kappa", 2.5},
                  {"rho_min", 0.5}, {"lambda_nb", 0.1}, {"lambda_h", 0.2}, {"lambda_p", 0.3}, {"lambda_lm", 0.7},
                  {"token_batch", 17}, {"trust_radius", 0.2}, {"freeze_min_count", 1000}, {"target_fit", "smoothed"},
                  {"target_spread", "members"}, {"kl_batch", "weighted"}, {"abtt_directions", 2}, {"noise", 0.25},
                  {"cosreg", 3.0}, {"a", 0.3}, {"match_checkpoint", ""}, {"match_shard", ""}, {"match_tokens", 5000},
                  {"match_tol", 0.01}, {"match_iterations", 12}, {"precision", "bf16"}};
  ASSERT_EQ(j.size(), keys.size());
  const auto o = AlignOptions::from_json(j, "a.json");
  EXPECT_EQ(o.to_json(), j);
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.calib_tokens, 900u);
  EXPECT_EQ(o.loop.steps, 11);
  EXPECT_EQ(o.loop.log_every, 2);
  EXPECT_EQ(o.hcma.layer, 1);
  EXPECT_EQ(o.hcma.hierarchy.iterations, 9);
  EXPECT_EQ(o.hcma.terms.token_batch, 17);
  EXPECT_EQ(o.hcma.terms.kappa, 2.5);
  EXPECT_EQ(o.hcma.lambda_lm, 0.7);
  EXPECT_EQ(o.abtt.directions, 2);
  EXPECT_EQ(o.emb_noise.noise, 0.25);
  EXPECT_EQ(o.cosreg.weight, 3.0);
  EXPECT_EQ(o.precision, "bf16");
  EXPECT_EQ(o.loop.optimizer, "sgd");
  EXPECT_EQ(o.loop.checkpoint_every, 4);
  EXPECT_EQ(o.hcma.terms.trust_radius, 0.2);
  EXPECT_EQ(o.hcma.terms.freeze_min_count, 1000);
  EXPECT_EQ(o.hcma.terms.target_fit, "smoothed");
  EXPECT_EQ(o.hcma.terms.target_spread, "members");
  EXPECT_EQ(o.hcma.terms.kl_batch, "weighted");
  EXPECT_EQ(o.shrink.a, 0.3);
  EXPECT_EQ(o.shrink.match_tokens, 5000u);
  EXPECT_EQ(o.shrink.match_tol, 0.01);
  EXPECT_EQ(o.shrink.match_iterations, 12);
  // --help lists one line per key, in that order.
  std::vector<std::string> listed;
  std::istringstream help(AlignOptions::fields().help());
  for (std::string line; std::getline(help, line);) listed.push_back(line.substr(2, line.find("  ", 2) - 2));
  EXPECT_EQ(listed, keys);
}

TEST(HcmaAlign, TheRegistryBuildsEveryMethodAndSaysWhatEachNeeds) {
  EXPECT_EQ(method_names(),
            (std::vector<std::string>{"hcma", "abtt", "whiten", "emb-finetune", "emb-noise", "cosreg", "shrink"}));
  const std::set<std::string> closed_form = {"abtt", "whiten", "shrink"}, lm = {"emb-finetune", "emb-noise", "cosreg"};
  for (const auto& name : method_names()) {
    AlignOptions o;
    o.method = name;
    auto m = make_align_method(o);
    ASSERT_TRUE(m) << name;
    EXPECT_EQ(m->name(), name);
    EXPECT_EQ(m->deterministic(), closed_form.count(name) == 1) << name;
    EXPECT_EQ(m->uses_lm(), lm.count(name) == 1) << name;  // hcma: lambda_lm is 0 by default
    EXPECT_EQ(o.deterministic(), m->deterministic()) << name;
    EXPECT_EQ(o.trained(), !m->deterministic()) << name;
    EXPECT_EQ(o.uses_lm(), m->uses_lm()) << name;
  }
  AlignOptions hcma_lm;
  hcma_lm.hcma.lambda_lm = 0.5;
  EXPECT_TRUE(make_align_method(hcma_lm)->uses_lm());
  EXPECT_FALSE(make_align_method(hcma_lm)->deterministic());
  AlignOptions magic;
  magic.method = "magic";
  auto msg = test_util::error_of([&] { make_align_method(magic); });
  EXPECT_NE(msg.find("unknown alignment method 'magic' (hcma, abtt, whiten, emb-finetune, emb-noise, cosreg, shrink)"),
            std::string::npos)
      << msg;
  msg = test_util::error_of([&] { AlignOptions::from_json({{"method", "magic"}}, "a.json"); });
  EXPECT_NE(msg.find("a.json: unknown alignment method 'magic' (hcma, abtt"), std::string::npos) << msg;
}

}  // namespace
}  // namespace structlm::hcma
