// Starting CSTDE's dependency path off its saddle (docs/CSTDE.md, "Starting off the saddle";
// issue 14): the log-distance prior by hand, beta_init and prior_init in a fresh model, the
// gradients at init (exactly zero into U, V, the bias and gamma with beta = 0, nonzero with a
// nonzero beta; dL/dbeta first-order only with an informative prior), and the config's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "cstde/dependency.h"
#include "model/gpt.h"
#include "model/model_test_util.h"

using namespace structlm::model;
using namespace structlm::model::testing;
using namespace structlm::cstde;
namespace zoo = structlm::zoo;

namespace {

GPTConfig saddle_config(const std::string& prior, double beta) {
  GPTConfig c = tiny_config(/*tied=*/true, /*bias=*/true);
  c.n_layer = 3;  // two carry gates
  c.cstde.attention = true;
  c.cstde.rank = 4;
  c.cstde.buckets = 4;  // distances 0 | 1 | 2-3 | 4+ (max_distance 6)
  c.cstde.max_distance = 6;
  c.cstde.prior_init = prior;
  c.cstde.beta_init = beta;
  return c;
}

// The gradient of every CSTDE parameter of a freshly initialised fp64 model (the trainer's init:
// zoo::make_gpt at a seed), on one batch of random tokens.
struct InitGradients {
  double u = 0, v = 0, bias = 0, carry = 0, beta = 0;  // largest |gradient| of each kind
};

InitGradients gradients_at_init(const GPTConfig& c) {
  torch::manual_seed(5);
  GPT m = zoo::make_gpt(c);
  m->to(torch::kFloat64);
  const auto idx = random_tokens(4, c.block_size, c.vocab_size, 9);
  const auto targets = random_tokens(4, c.block_size, c.vocab_size, 10);
  m->loss(idx, targets).backward();
  InitGradients g;
  auto worst = [](double& into, const torch::Tensor& p) {
    EXPECT_TRUE(p.grad().defined());
    into = std::max(into, p.grad().abs().max().item<double>());
  };
  for (auto& item : m->named_parameters()) {
    const std::string& n = item.key();
    if (n.find(".dep.u.") != std::string::npos) worst(g.u, item.value());
    if (n.find(".dep.v.") != std::string::npos) worst(g.v, item.value());
    if (n.find(".dep.rel_bias") != std::string::npos) worst(g.bias, item.value());
    if (n.find(".dep.carry_logit") != std::string::npos) worst(g.carry, item.value());
    if (n.find("dep_beta") != std::string::npos) worst(g.beta, item.value());
  }
  return g;
}

std::string error_of(const structlm::json& j) {
  try {
    GPTConfig::from_json(j, "cfg.json");
  } catch (const structlm::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// b(k) = -log(1 + n) averaged over the distances n < max(block_size, max_distance + 1) of bucket k:
// with 4 buckets and max_distance 6 (T5's table: 0 | 1 | 2, 3 | 4, 5, 6, ...) and block_size 8.
TEST(LogDistancePrior, BucketValuesByHand) {
  const auto b = log_distance_prior(4, 6, 8);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_DOUBLE_EQ(b[0], 0.0);
  EXPECT_DOUBLE_EQ(b[1], -std::log(2.0));
  EXPECT_NEAR(b[2], -(std::log(3.0) + std::log(4.0)) / 2, 1e-15);
  EXPECT_NEAR(b[3], -(std::log(5.0) + std::log(6.0) + std::log(7.0) + std::log(8.0)) / 4, 1e-15);
  // A longer context only adds distances to the shared last bucket.
  const auto longer = log_distance_prior(4, 6, 10);
  EXPECT_EQ(longer[2], b[2]);
  EXPECT_NEAR(longer[3], -(std::log(5.0) + std::log(6.0) + std::log(7.0) + std::log(8.0) + std::log(9.0) + std::log(10.0)) / 6,
              1e-15);
  // Buckets no distance reaches (32 buckets, max_distance 17: 16 log-spaced buckets for 16..17)
  // copy the nearest reached one below: the table never increases with distance.
  const auto sparse = log_distance_prior(32, 17, 8);
  for (std::size_t k = 1; k < sparse.size(); ++k) EXPECT_LE(sparse[k], sparse[k - 1]) << k;
  EXPECT_DOUBLE_EQ(sparse[7], -std::log(8.0));
}

// prior_init and beta_init are what a fresh model holds, in every layer, after the seed's draws;
// they draw nothing, so every other tensor is the same as with the old zero/zero start.
TEST(SaddleInit, FreshModelHoldsThePriorAndBeta) {
  const GPTConfig old_cfg = saddle_config("zero", 0.0), new_cfg = saddle_config("log_distance", 0.25);
  torch::manual_seed(3);
  GPT old_m = zoo::make_gpt(old_cfg);
  const auto next_old = torch::rand({3});
  torch::manual_seed(3);
  GPT new_m = zoo::make_gpt(new_cfg);
  EXPECT_TRUE(torch::equal(torch::rand({3}), next_old)) << "the init drew from the generator";
  const auto prior = log_distance_prior(4, 6, new_cfg.block_size);
  const auto want = torch::tensor(prior, torch::kFloat64).to(torch::kFloat32);
  auto old_params = old_m->named_parameters();
  for (auto& item : new_m->named_parameters()) {
    const std::string& n = item.key();
    const torch::Tensor& was = old_params[n];
    if (n.find("rel_bias") != std::string::npos) {
      EXPECT_TRUE(torch::equal(item.value(), want)) << n;
      EXPECT_TRUE(torch::equal(was, torch::zeros_like(was))) << n;
    } else if (n.find("dep_beta") != std::string::npos) {
      EXPECT_TRUE(torch::equal(item.value(), torch::full_like(item.value(), 0.25))) << n;
      EXPECT_TRUE(torch::equal(was, torch::zeros_like(was))) << n;
    } else {
      EXPECT_TRUE(torch::equal(item.value(), was)) << n;  // U, V, gamma and every shared tensor
    }
  }
  // The default is the log-distance prior with beta 0.
  EXPECT_EQ(GPTConfig().cstde.prior_init, "log_distance");
  EXPECT_EQ(GPTConfig().cstde.beta_init, 0.0);
}

// The saddle: with beta = 0 the dependency path's output is multiplied by an exact zero, so U, V,
// the bias and the carry gate get exactly zero gradient, whatever D is. With the zero prior D is
// near uniform, log D nearly constant along each row, and softmax's gradient sums to zero over a
// row, so dL/dbeta is tiny as well: nothing moves. The log-distance prior makes log D vary along
// each row: dL/dbeta is first-order. A nonzero beta sends gradient into every part of the path.
TEST(SaddleInit, GradientsAtInitLeaveTheSaddleOnlyWhenSwitchedOn) {
  const InitGradients old_start = gradients_at_init(saddle_config("zero", 0.0));
  EXPECT_EQ(old_start.u, 0.0);
  EXPECT_EQ(old_start.v, 0.0);
  EXPECT_EQ(old_start.bias, 0.0);
  EXPECT_EQ(old_start.carry, 0.0);
  std::printf("[ measured ] |dL/dbeta| at init: zero prior %.3g", old_start.beta);

  const InitGradients prior_only = gradients_at_init(saddle_config("log_distance", 0.0));
  std::printf(", log-distance prior %.3g\n", prior_only.beta);
  EXPECT_EQ(prior_only.u, 0.0);  // beta = 0 still multiplies the path by an exact zero...
  EXPECT_EQ(prior_only.bias, 0.0);
  EXPECT_EQ(prior_only.carry, 0.0);
  EXPECT_GT(prior_only.beta, 1e-4);                      // ...but beta itself now has a gradient
  EXPECT_GT(prior_only.beta, 100 * old_start.beta);      // that the near-uniform D all but cancels

  for (const char* prior : {"zero", "log_distance"}) {
    const InitGradients g = gradients_at_init(saddle_config(prior, 0.5));
    EXPECT_GT(g.u, 0.0) << prior;
    EXPECT_GT(g.v, 0.0) << prior;
    EXPECT_GT(g.bias, 0.0) << prior;
    EXPECT_GT(g.carry, 0.0) << prior;
    EXPECT_GT(g.beta, 0.0) << prior;
    std::printf("[ measured ] prior %s, beta 0.5: largest |grad| U %.2g V %.2g bias %.2g carry %.2g beta %.2g\n", prior, g.u,
                g.v, g.bias, g.carry, g.beta);
  }
}

TEST(SaddleInit, ConfigRoundTripsAndRefusesBadValuesByName) {
  GPTConfig c = saddle_config("zero", -0.5);
  c.cstde.lr_mult = 10;
  c.cstde.decay_uv = true;
  c.cstde.init_tokens = "split";
  const auto back = GPTConfig::from_json(c.to_json(), "cfg.json");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.cstde.prior_init, "zero");
  EXPECT_EQ(back.cstde.beta_init, -0.5);
  EXPECT_EQ(back.cstde.lr_mult, 10);
  EXPECT_TRUE(back.cstde.decay_uv);
  EXPECT_EQ(back.cstde.init_tokens, "split");

  // A section written before these keys existed reads with the defaults.
  auto j = tiny_config(true, true).to_json();
  j["cstde"] = {{"attention", true}, {"rank", 2}};
  const auto defaults = GPTConfig::from_json(j, "cfg.json").cstde;
  EXPECT_EQ(defaults.prior_init, "log_distance");
  EXPECT_EQ(defaults.beta_init, 0.0);
  EXPECT_EQ(defaults.lr_mult, 1.0);
  EXPECT_FALSE(defaults.decay_uv);
  EXPECT_EQ(defaults.init_tokens, "trained");

  struct Bad {
    structlm::json cstde;
    std::string says;
  };
  const Bad bad[] = {
      {{{"attention", true}, {"prior_init", "uniform"}}, "'prior_init' must be \"log_distance\" or \"zero\""},
      {{{"attention", true}, {"prior_init", 1}}, "prior_init"},
      {{{"attention", true}, {"beta_init", "0.1"}}, "beta_init"},
      {{{"attention", true}, {"lr_mult", 0}}, "'lr_mult' must be a number > 0"},
      {{{"attention", true}, {"lr_mult", -2.0}}, "'lr_mult' must be a number > 0"},
      {{{"attention", true}, {"decay_uv", "yes"}}, "decay_uv"},
      {{{"init", true}, {"init_tokens", "all"}}, "'init_tokens' must be \"trained\" or \"split\""},
      {{{"attention", true}, {"init_permute", true}}, "'cstde.init_permute' permutes the structured init: it needs cstde.init true"},
      {{{"attention", true}, {"beta_int", 0.1}}, "beta_int"},  // unknown keys stay errors
  };
  for (const auto& b : bad) {
    auto with = j;
    with["cstde"] = b.cstde;
    with["cstde"]["rank"] = 2;  // the default 32 is wider than this model
    const std::string msg = error_of(with);
    EXPECT_NE(msg.find(b.says), std::string::npos) << b.cstde.dump() << " -> " << msg;
    EXPECT_NE(msg.find("cfg.json"), std::string::npos) << msg;
  }
}
