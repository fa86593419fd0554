// CSTDE's own parameters in training (issue 14; docs/CSTDE.md, "Starting off the saddle"): their
// optimizer groups, one AdamW step by hand with model.cstde.lr_mult and no decay, the old rule
// bit for bit, resuming bit for bit with a multiplier, and the structured init counted on the
// tokens the run trains on ("trained") or on the whole split.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/io.h"
#include "cstde/dependency.h"
#include "cstde/structured_init.h"
#include "data/shard.h"
#include "model/checkpoint.h"
#include "test_util.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

using namespace structlm;
using structlm::testing::TempDir;

namespace {

model::GPTConfig cstde_model() {
  model::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 6;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.cstde.attention = true;
  c.cstde.rank = 2;
  c.cstde.buckets = 4;
  c.cstde.max_distance = 5;
  return c;
}

std::map<const void*, std::string> names_of(model::GPT& m) {
  std::map<const void*, std::string> n;
  for (auto& item : m->named_parameters()) n[item.value().unsafeGetTensorImpl()] = item.key();
  return n;
}

std::set<std::string> names_in(const train::ParamGroup& g, const std::map<const void*, std::string>& names) {
  std::set<std::string> out;
  for (const auto& p : g.params) out.insert(names.at(p.unsafeGetTensorImpl()));
  return out;
}

// Gradients of a known, varied size on every parameter (no zeros, so sign(g) is defined).
void set_gradients(model::GPT& m, std::uint64_t seed) {
  torch::manual_seed(seed);
  for (auto& p : m->parameters()) p.mutable_grad() = torch::randn_like(p) * 0.1 + 0.05;
}

}  // namespace

TEST(CstdeOptimizer, OwnParametersFormTheirOwnGroups) {
  model::GPTConfig c = cstde_model();
  c.cstde.lr_mult = 7;
  torch::manual_seed(1);
  model::GPT m = zoo::make_gpt(c);
  const auto names = names_of(m);
  auto groups = train::param_groups(m->decay_params(), m->no_decay_params(), names, c.cstde);
  ASSERT_EQ(groups.size(), 4u);
  // shared matrices | shared vectors | U, V | beta, gamma, bias
  EXPECT_TRUE(groups[0].decay && groups[0].lr_mult == 1);
  EXPECT_TRUE(!groups[1].decay && groups[1].lr_mult == 1);
  EXPECT_TRUE(!groups[2].decay && groups[2].lr_mult == 7);
  EXPECT_TRUE(!groups[3].decay && groups[3].lr_mult == 7);
  EXPECT_EQ(names_in(groups[2], names),
            (std::set<std::string>{"h.0.dep.u.weight", "h.0.dep.v.weight", "h.1.dep.u.weight", "h.1.dep.v.weight"}));
  EXPECT_EQ(names_in(groups[3], names),
            (std::set<std::string>{"h.0.dep.rel_bias", "h.1.dep.rel_bias", "h.1.dep.carry_logit", "h.0.attn.dep_beta",
                                   "h.1.attn.dep_beta"}));
  std::size_t total = 0;
  for (const auto& g : groups) {
    total += g.params.size();
    if (g.lr_mult == 1)
      for (const auto& n : names_in(g, names)) EXPECT_FALSE(cstde::is_cstde_parameter(n)) << n;
  }
  EXPECT_EQ(total, names.size());

  // The old rule: U and V decay with the shared matrices' rate.
  c.cstde.decay_uv = true;
  groups = train::param_groups(m->decay_params(), m->no_decay_params(), names, c.cstde);
  EXPECT_TRUE(groups[2].decay);
  // A plain model: the model's two lists as they are.
  model::GPTConfig plain = cstde_model();
  plain.cstde = model::CstdeConfig();
  torch::manual_seed(1);
  model::GPT p = zoo::make_gpt(plain);
  const auto pn = names_of(p);
  auto pg = train::param_groups(p->decay_params(), p->no_decay_params(), pn, plain.cstde);
  ASSERT_EQ(pg.size(), 2u);
  EXPECT_EQ(pg[0].params.size(), p->decay_params().size());
  EXPECT_EQ(pg[1].params.size(), p->no_decay_params().size());
}

// One AdamW step from zero moments is lr * g / (|g| + eps) after the decay factor (see
// config_checkpoint_optim_test's hand computation). With lr_mult k CSTDE's parameters move by
// k * lr * g / (|g| + eps) and are not decayed; every other parameter takes the plain step, the
// matrices decayed by (1 - lr * wd). decay_uv shrinks U and V by (1 - k * lr * wd) instead.
TEST(CstdeOptimizer, OneStepByHandWithTheMultiplierAndNoDecay) {
  for (bool decay_uv : {false, true}) {
    model::GPTConfig c = cstde_model();
    c.cstde.lr_mult = 10;
    c.cstde.decay_uv = decay_uv;
    torch::manual_seed(2);
    model::GPT m = zoo::make_gpt(c);
    const auto names = names_of(m);
    train::AdamWOptions o;
    o.weight_decay = 0.5;
    train::AdamW opt(train::param_groups(m->decay_params(), m->no_decay_params(), names, c.cstde), names, o);
    set_gradients(m, 3);
    std::map<std::string, torch::Tensor> before;
    for (auto& item : m->named_parameters()) before[item.key()] = item.value().detach().clone().to(torch::kFloat64);
    const double lr = 0.01;
    opt.step(lr);  // fp32 contiguous CPU: the fused kernel
    for (auto& item : m->named_parameters()) {
      const std::string& n = item.key();
      const bool own = cstde::is_cstde_parameter(n), matrix = item.value().dim() >= 2;
      const double k = own ? 10.0 : 1.0;
      const bool decays = matrix && (!own || decay_uv);
      const torch::Tensor g = item.value().grad().to(torch::kFloat64);
      torch::Tensor want = before[n] * (decays ? 1 - k * lr * o.weight_decay : 1.0) - k * lr * g / (g.abs() + o.eps);
      const double err = (item.value().detach().to(torch::kFloat64) - want).abs().max().item<double>();
      EXPECT_LT(err, 1e-6) << n << " decay_uv " << decay_uv;
    }
  }
}

// lr_mult 1 with U and V decayed is the optimizer before these switches, bit for bit: the same
// update as the two groups of the model's lists.
TEST(CstdeOptimizer, OldRuleIsTheTwoGroupOptimizerBitForBit) {
  model::GPTConfig c = cstde_model();
  c.cstde.decay_uv = true;
  torch::manual_seed(4);
  model::GPT a = zoo::make_gpt(c);
  torch::manual_seed(4);
  model::GPT b = zoo::make_gpt(c);
  const auto na = names_of(a), nb = names_of(b);
  train::AdamWOptions o;
  train::AdamW old_opt(a->decay_params(), a->no_decay_params(), na, o);
  train::AdamW new_opt(train::param_groups(b->decay_params(), b->no_decay_params(), nb, c.cstde), nb, o);
  for (int step = 0; step < 3; ++step) {
    set_gradients(a, 10 + step);
    set_gradients(b, 10 + step);
    old_opt.step(3e-3, torch::tensor(0.7f));
    new_opt.step(3e-3, torch::tensor(0.7f));
  }
  auto pb = b->named_parameters();
  for (auto& item : a->named_parameters()) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_EQ(old_opt.state().size(), new_opt.state().size());
}

TEST(CstdeOptimizer, AParameterInTwoGroupsIsRefused) {
  auto p = torch::zeros({2}).requires_grad_();
  std::map<const void*, std::string> names = {{p.unsafeGetTensorImpl(), "p"}};
  EXPECT_THROW(train::AdamW({{{p}, false, 1.0}, {{p}, true, 2.0}}, names, train::AdamWOptions()), std::exception);
}

// ---- whole runs ------------------------------------------------------------------------------

namespace {

std::string shard(const std::string& path, const std::vector<std::uint32_t>& t, std::uint32_t vocab) {
  data::write_shard(path, t, vocab);
  return path;
}

train::RunConfig cstde_run(const std::string& dir) {
  train::RunConfig c;
  c.model = cstde_model();
  c.model.vocab_size = 16;
  c.model.block_size = 8;
  c.model.dropout = 0.1;
  c.model.cstde.lr_mult = 5;
  c.model.cstde.beta_init = 0.2;
  c.train.batch_size = 2;
  c.train.grad_accum = 2;
  c.train.max_steps = 6;
  c.train.warmup_steps = 1;
  c.train.lr = 3e-3;
  c.train.min_lr = 3e-4;
  c.train.grad_clip = 0.5;
  c.train.eval_every = 3;
  c.train.eval_batches = 1;
  c.train.ckpt_every = 2;
  c.train.log_every = 1;
  c.train.seed = 9;
  c.train.device = "cpu";
  c.train.threads = 1;
  c.train.precision = "fp32";
  std::vector<std::uint32_t> t(600);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = std::uint32_t((i * 7 + i / 5) % 15);  // 15 = EOT never appears
  c.data.train_shards = {shard(dir + "/train.bin", t, 16)};
  c.data.val_shards = {shard(dir + "/val.bin", std::vector<std::uint32_t>(t.begin(), t.begin() + 100), 16)};
  return c;
}

}  // namespace

// A CSTDE run with lr_mult 5 and beta_init 0.2, stopped and resumed, ends where the uninterrupted
// run does, every weight and moment bit for bit; the gates moved by about lr_mult times what a
// multiplier of 1 moves them.
TEST(CstdeTraining, ResumeWithTheMultiplierIsBitForBit) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  train::RunConfig cfg = cstde_run(dir);
  train::train(cfg, dir + "/straight", false);
  train::RunConfig first = cfg;
  first.train.stop_at_step = 3;
  train::train(first, dir + "/split", false);
  train::train(cfg, dir + "/split", /*resume=*/true);
  model::Checkpoint a = model::read_checkpoint(dir + "/straight/checkpoints/latest.safetensors");
  model::Checkpoint b = model::read_checkpoint(dir + "/split/checkpoints/latest.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, b.tensors[name])) << name;
  }
  EXPECT_TRUE(a.tensors.count("optim.exp_avg.h.1.dep.carry_logit"));

  train::RunConfig one = cfg;
  one.model.cstde.lr_mult = 1;
  train::train(one, dir + "/one", false);
  model::Checkpoint c = model::read_checkpoint(dir + "/one/checkpoints/latest.safetensors");
  const double moved5 = (a.tensors["h.0.attn.dep_beta"] - 0.2).abs().max().item<double>();
  const double moved1 = (c.tensors["h.0.attn.dep_beta"] - 0.2).abs().max().item<double>();
  std::printf("[ measured ] beta moved %.4g with lr_mult 5, %.4g with 1\n", moved5, moved1);
  EXPECT_GT(moved5, 2.5 * moved1);
  // The multiplier may not change on resume: it changes what the run computes.
  train::RunConfig changed = cfg;
  changed.model.cstde.lr_mult = 2;
  changed.train.max_steps = 8;
  EXPECT_THROW(train::train(changed, dir + "/straight", true), Error);
}

// The trainer's structured init counts the train.max_steps batches it then trains on
// (max_steps x batch_size x grad_accum windows of block_size + 1 tokens), or the whole split.
TEST(CstdeTraining, StructuredInitCountsTheTrainedTokensOrTheSplit) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  train::RunConfig cfg = cstde_run(dir);
  cfg.model.cstde.attention = false;
  cfg.model.cstde.init = true;
  cfg.train.max_steps = 2;
  cfg.train.eval_every = 0;
  train::train(cfg, dir + "/trained", false);
  const json trained = load_json(dir + "/trained/structured_init.json");
  EXPECT_EQ(trained["source"], "trained");
  EXPECT_EQ(trained["steps"], 2);
  EXPECT_EQ(trained["rows"], 4);
  EXPECT_EQ(trained["window"], 9);
  EXPECT_EQ(trained["tokens"], 2 * 4 * 9);
  EXPECT_EQ(trained["pairs"], 2 * 4 * 36);  // w = 8 reaches every earlier token of a window of 9: 0 + 1 + ... + 8

  // The same counts from the batches the trainer draws (TokenStream::random_batch at its seed).
  data::TokenStream stream(cfg.data.train_shards);
  cstde::TrainedTokens t;
  t.steps = 2, t.rows = 4, t.window = 9;
  t.read_step = [&](std::int64_t s, std::int64_t* out) { stream.random_batch(cfg.train.seed, s, 4, 8, out); };
  torch::manual_seed(cfg.train.seed);
  model::GPT m = zoo::make_gpt(cfg.model);
  cstde::StructuredInitOptions o;
  o.window = 8;
  o.eot = 15;
  o.progress = false;
  cstde::StructuredInitStats st;
  cstde::structured_embedding(t, m->wte->weight.detach(), o, cfg.train.seed, &st);
  EXPECT_EQ(trained["nnz_counts"], st.nnz_counts);
  ASSERT_EQ(trained["singular_values"].size(), st.singular_values.size());
  for (std::size_t i = 0; i < st.singular_values.size(); ++i)
    EXPECT_NEAR(trained["singular_values"][i].get<double>(), st.singular_values[i], 1e-5 * st.singular_values[0]) << i;

  cfg.model.cstde.init_tokens = "split";
  train::train(cfg, dir + "/split", false);
  const json split = load_json(dir + "/split/structured_init.json");
  EXPECT_EQ(split["source"], "split");
  EXPECT_EQ(split["tokens"], 600);
  EXPECT_FALSE(split.contains("steps"));
}

// Issue 14: the prior's use over training: every evaluation line of a CSTDE run carries mean
// |beta|, the carry gate and D's entropy; a plain run's lines carry none of them.
TEST(CstdeTraining, EvaluationLinesLogThePriorsUse) {
  TempDir t;
  const std::string dir = t.path();
  train::RunConfig cfg = cstde_run(dir);
  train::train(cfg, dir + "/cstde", false);
  int evals = 0;
  for (const auto& line : read_lines(dir + "/cstde/metrics.jsonl")) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    if (!j.contains("val_loss")) {
      EXPECT_FALSE(j.contains("d_entropy")) << line;
      continue;
    }
    ++evals;
    ASSERT_TRUE(j.contains("prior_weight") && j.contains("carry_gate") && j.contains("d_entropy")) << line;
    EXPECT_GT(j["prior_weight"].get<double>(), 0.0);  // beta_init 0.2
    EXPECT_GT(j["carry_gate"].get<double>(), 0.0);
    EXPECT_LT(j["carry_gate"].get<double>(), 1.0);
    // Rows of 1..8 keys: between one-hot (0) and uniform (mean of log(i + 1), i < 8).
    double uniform = 0;
    for (int i = 0; i < 8; ++i) uniform += std::log(i + 1.0) / 8;
    EXPECT_GT(j["d_entropy"].get<double>(), 0.0);
    EXPECT_LE(j["d_entropy"].get<double>(), uniform + 1e-9);
  }
  EXPECT_EQ(evals, 2);  // steps 3 and 6
  cfg.model.cstde = model::CstdeConfig{};  // the plain GPT
  train::train(cfg, dir + "/plain", false);
  for (const auto& line : read_lines(dir + "/plain/metrics.jsonl"))
    if (!line.empty()) EXPECT_FALSE(json::parse(line).contains("prior_weight")) << line;
}
