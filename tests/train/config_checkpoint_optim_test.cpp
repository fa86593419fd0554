// The pieces a training run is built from: its config, its learning-rate schedule, the checkpoint
// file, and the optimizer (checked by hand against AdamW's formulas).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "../model/model_test_util.h"
#include "test_util.h"
#include "core/io.h"
#include "model/checkpoint.h"
#include "train/checkpointing.h"
#include "train/config.h"
#include "train/optimizer.h"
#include "zoo/zoo.h"

namespace fs = std::filesystem;
using namespace structlm;
using structlm::testing::error_of;
using structlm::testing::TempDir;

namespace {

model::GPTConfig tiny_model(bool tied = true, bool bias = true) {
  model::GPTConfig c = model::testing::tiny_config(tied, bias);
  c.vocab_size = 50;
  c.n_embd = 16;
  return c;
}

}  // namespace

// ---- schedule --------------------------------------------------------------------------------

TEST(LrSchedule, WarmupThenCosineToMinLr) {
  train::TrainConfig c;
  c.lr = 1e-3;
  c.min_lr = 1e-4;
  c.warmup_steps = 10;
  c.max_steps = 110;
  EXPECT_DOUBLE_EQ(train::lr_at(c, 0), 1e-4);   // 1/10 of lr
  EXPECT_DOUBLE_EQ(train::lr_at(c, 4), 5e-4);   // 5/10
  EXPECT_DOUBLE_EQ(train::lr_at(c, 9), 1e-3);   // warm-up done
  EXPECT_DOUBLE_EQ(train::lr_at(c, 10), 1e-3);  // cosine starts at the top
  EXPECT_NEAR(train::lr_at(c, 35), 1e-4 + 0.5 * (1 + std::sqrt(0.5)) * 9e-4, 1e-15);  // a quarter in
  EXPECT_NEAR(train::lr_at(c, 60), 5.5e-4, 1e-15);                                     // half-way
  EXPECT_NEAR(train::lr_at(c, 110), 1e-4, 1e-15);
  EXPECT_NEAR(train::lr_at(c, 500), 1e-4, 1e-15);  // flat after max_steps
  c.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(train::lr_at(c, 0), 1e-3);
  c.warmup_steps = 200;  // longer than the run: never decays
  EXPECT_DOUBLE_EQ(train::lr_at(c, 199), 1e-3);
  EXPECT_DOUBLE_EQ(train::lr_at(c, 300), 1e-3);
}

// ---- config ----------------------------------------------------------------------------------

TEST(RunConfig, RoundTripsThroughJson) {
  train::RunConfig c;
  c.model = tiny_model(false, false);
  c.train.lr = 3e-4;
  c.train.seed = 42;
  c.train.stop_at_step = 7;
  c.train.device = "cpu";
  c.data.train_shards = {"a.bin", "b.bin"};
  c.data.val_shards = {"v.bin"};
  c.data.tokenizer = "tok";
  TempDir tmp;
  const std::string path = tmp.path() + "/config.json";
  save_json(path, c.to_json());
  train::RunConfig back = train::RunConfig::load(path);
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.data.train_shards.size(), 2u);
  EXPECT_EQ(back.train.seed, 42u);
}

TEST(RunConfig, ErrorsNameTheFileAndTheField) {
  TempDir tmp;
  const std::string path = tmp.path() + "/config.json";
  auto err = [&](const std::string& text) {
    write_file_atomic(path, text);
    return error_of([&] { train::RunConfig::load(path); });
  };
  auto expect_names = [&](const std::string& msg, const std::string& field) {
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << msg;
  };
  std::string m = err(R"({"train": {"lrr": 0.1}})");  // unknown key
  expect_names(m, "lrr");
  expect_names(err(R"({"train": {"lr": "fast"}})"), "'lr'");          // wrong type
  expect_names(err(R"({"train": {"batch_size": 0}})"), "batch_size");  // bad value
  expect_names(err(R"({"train": {"min_lr": 1.0, "lr": 0.1}})"), "min_lr");
  expect_names(err(R"({"train": {"beta2": 1.0}})"), "beta2");
  expect_names(err(R"({"train": {"seed": -1}})"), "seed");
  expect_names(err(R"({"data": {"train_shards": "one.bin"}})"), "train_shards");
  expect_names(err(R"({"data": {"val_shards": [1, 2]}})"), "val_shards");
  expect_names(err(R"({"model": {"n_embd": 10, "n_head": 3}})"), "n_embd");
  expect_names(err(R"({"modle": {}})"), "modle");
  expect_names(err(R"({"train": 3})"), "train");
  EXPECT_NE(err("{not json").find(path), std::string::npos);
  EXPECT_EQ(err(R"({"train": {"lr": 0.01, "min_lr": 0.001}})"), "");  // and a good one passes
}

// ---- checkpoints -----------------------------------------------------------------------------

TEST(Checkpoint, RoundTripIsBitExact) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  torch::manual_seed(3);
  model::GPT m(tiny_model(/*tied=*/false, /*bias=*/false));
  std::map<std::string, torch::Tensor> extra = {
      {"optim.exp_avg.wte.weight", torch::randn({50, 16})},
      {"optim.step", torch::tensor({std::int64_t(12345678901)}, torch::kInt64)},
      {"x.bf16", torch::randn({3, 5}).to(torch::kBFloat16)},
      {"x.f64", torch::randn({4}, torch::kFloat64)},
      {"x.half", torch::randn({2, 2}).to(torch::kFloat16)},
      {"x.i32", torch::randint(-1000, 1000, {7}, torch::kInt32)},
      {"x.u8", torch::randint(0, 255, {6}, torch::kUInt8)},
      {"x.bool", torch::rand({5}) > 0.5},
      {"x.empty", torch::zeros({0, 3})},
      {"x.strided", torch::randn({4, 6}).t()},  // not contiguous: saved as its values
  };
  json meta = {{"note", "hello"}, {"n", 3}, {"obj", {{"a", 1.5}, {"b", {1, 2, 3}}}}, {"numeric_string", "123"}};
  const std::string path = dir + "/c.safetensors";
  model::save_checkpoint(path, m, extra, meta);

  model::Checkpoint ck = model::read_checkpoint(path);
  EXPECT_EQ(ck.config.to_json(), m->config().to_json());
  for (const auto& [k, v] : meta.items()) EXPECT_EQ(ck.meta[k], v) << k;
  std::size_t n_model = 0;
  for (auto& item : m->named_parameters()) {
    ++n_model;
    ASSERT_TRUE(ck.tensors.count(item.key())) << item.key();
    EXPECT_TRUE(torch::equal(ck.tensors[item.key()], item.value())) << item.key();
  }
  EXPECT_TRUE(ck.tensors.count("lm_head.weight"));  // untied: its own matrix
  for (const auto& [k, v] : extra) {
    ASSERT_TRUE(ck.tensors.count(k)) << k;
    EXPECT_EQ(ck.tensors[k].scalar_type(), v.scalar_type()) << k;
    EXPECT_EQ(ck.tensors[k].sizes(), v.sizes()) << k;
    EXPECT_TRUE(torch::equal(ck.tensors[k], v)) << k;
  }
  EXPECT_EQ(ck.tensors.size(), n_model + extra.size());
  EXPECT_EQ(ck.tensors["optim.step"].item<std::int64_t>(), 12345678901);

  // load_model builds the same model, bit for bit.
  model::GPT back = zoo::load_model(path);
  auto a = m->named_parameters(), b = back->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
}

TEST(Checkpoint, CorruptFilesAreErrorsNamingTheFile) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  model::GPT m(tiny_model());
  const std::string path = dir + "/c.safetensors";
  model::save_checkpoint(path, m, {}, json::object());
  const std::string bytes = read_file(path);

  const std::string cut = dir + "/truncated.safetensors";
  write_file_atomic(cut, bytes.substr(0, bytes.size() / 2));
  std::string msg = error_of([&] { model::read_checkpoint(cut); });
  EXPECT_NE(msg.find(cut), std::string::npos) << msg;
  msg = error_of([&] { zoo::load_model(cut); });
  EXPECT_NE(msg.find(cut), std::string::npos) << msg;

  const std::string garbage = dir + "/garbage.safetensors";
  write_file_atomic(garbage, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f not a checkpoint", 26));
  msg = error_of([&] { model::read_checkpoint(garbage); });
  EXPECT_NE(msg.find(garbage), std::string::npos) << msg;

  msg = error_of([&] { model::read_checkpoint(dir + "/absent.safetensors"); });
  EXPECT_NE(msg.find("absent.safetensors"), std::string::npos) << msg;

  // A model of another shape: the message names the file and the tensor.
  model::GPT other(tiny_model(/*tied=*/false));
  const std::string untied = dir + "/untied.safetensors";
  model::save_checkpoint(untied, other, {}, json::object());
  model::Checkpoint ck = model::read_checkpoint(untied);
  ck.tensors.erase("h.1.mlp.c_fc.weight");
  ck.config.tied = true;
  model::GPT tied(tiny_model(/*tied=*/true));
  msg = error_of([&] { model::load_weights(tied, ck); });
  EXPECT_NE(msg.find("h.1.mlp.c_fc.weight"), std::string::npos) << msg;
  ck = model::read_checkpoint(untied);
  msg = error_of([&] { model::load_weights(tied, ck); });
  EXPECT_NE(msg.find("lm_head.weight"), std::string::npos) << msg;  // untied file, tied model
  ck.tensors["wpe.weight"] = torch::zeros({9, 16});
  ck.tensors.erase("lm_head.weight");
  msg = error_of([&] { model::load_weights(tied, ck); });
  EXPECT_NE(msg.find("wpe.weight"), std::string::npos) << msg;
}

// ---- optimizer -------------------------------------------------------------------------------

TEST(AdamW, OneStepByHandDecaysOnlyTheDecayGroup) {
  auto w = torch::tensor({{1.0f, -2.0f}, {0.5f, 3.0f}}).requires_grad_();
  auto b = torch::tensor({0.25f, -1.0f}).requires_grad_();
  std::map<const void*, std::string> names = {{w.unsafeGetTensorImpl(), "w"}, {b.unsafeGetTensorImpl(), "b"}};
  train::AdamWOptions o;
  o.beta1 = 0.9;
  o.beta2 = 0.95;
  o.eps = 1e-8;
  o.weight_decay = 0.5;
  train::AdamW opt({w}, {b}, names, o);
  auto gw = torch::tensor({{0.1f, -0.2f}, {0.0f, 4.0f}});
  auto gb = torch::tensor({-0.3f, 0.05f});
  w.mutable_grad() = gw.clone();
  b.mutable_grad() = gb.clone();
  const auto w0 = w.detach().clone(), b0 = b.detach().clone();
  const double lr = 0.1;
  opt.step(lr);
  // Step 1 from zero moments: m/(1-b1) = g and sqrt(v/(1-b2)) = |g|, so the adaptive update is
  // lr * g / (|g| + eps): lr * sign(g) (0 where g = 0). Decay multiplies by (1 - lr * wd) first.
  auto expect = [&](float p0, float g, bool decay) {
    double p = decay ? p0 * (1 - lr * o.weight_decay) : p0;
    return float(p - lr * g / (std::fabs(g) + o.eps));
  };
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(w[i][j].item<float>(), expect(w0[i][j].item<float>(), gw[i][j].item<float>(), true), 1e-6);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(b[i].item<float>(), expect(b0[i].item<float>(), gb[i].item<float>(), false), 1e-6);
  EXPECT_NEAR(w[1][0].item<float>(), 0.5f * 0.95f, 1e-7);  // zero gradient: decay alone
  EXPECT_EQ(opt.steps(), 1);

  // Step 2 by the general formula (bias corrections 1 - beta^2).
  auto st = opt.state();
  const float m1 = st.at("optim.exp_avg.b")[0].item<float>(), v1 = st.at("optim.exp_avg_sq.b")[0].item<float>();
  EXPECT_NEAR(m1, 0.1 * -0.3, 1e-7);
  EXPECT_NEAR(v1, 0.05 * 0.09, 1e-7);
  const float b_before = b[0].item<float>();
  b.mutable_grad() = torch::tensor({0.2f, 0.0f});
  w.mutable_grad() = torch::Tensor();  // no gradient: left alone
  const auto w1 = w.detach().clone();
  opt.step(lr);
  const double m2 = 0.9 * m1 + 0.1 * 0.2, v2 = 0.95 * v1 + 0.05 * 0.04;
  const double upd = lr * (m2 / (1 - 0.81)) / (std::sqrt(v2 / (1 - 0.9025)) + o.eps);
  EXPECT_NEAR(b[0].item<float>(), b_before - upd, 1e-6);
  EXPECT_TRUE(torch::equal(w.detach(), w1));
}

TEST(AdamW, StateRoundTripsExactly) {
  torch::manual_seed(1);
  auto make = [] {
    auto p = torch::randn({3, 4}).requires_grad_();
    auto q = torch::randn({4}).requires_grad_();
    return std::make_pair(p, q);
  };
  auto [p1, q1] = make();
  auto p2 = p1.detach().clone().requires_grad_(), q2 = q1.detach().clone().requires_grad_();
  train::AdamWOptions o;
  train::AdamW a({p1}, {q1}, {{p1.unsafeGetTensorImpl(), "p"}, {q1.unsafeGetTensorImpl(), "q"}}, o);
  train::AdamW b({p2}, {q2}, {{p2.unsafeGetTensorImpl(), "p"}, {q2.unsafeGetTensorImpl(), "q"}}, o);
  auto grads = [](torch::Tensor& p, torch::Tensor& q, int k) {
    p.mutable_grad() = torch::full({3, 4}, 0.1f * k) + torch::arange(12).view({3, 4}).to(torch::kFloat) * 0.01f;
    q.mutable_grad() = torch::full({4}, -0.2f * k);
  };
  for (int k = 1; k <= 3; ++k) {
    grads(p1, q1, k);
    a.step(1e-2);
  }
  b.load_state(a.state(), "mem");
  { torch::NoGradGuard ng; p2.copy_(p1); q2.copy_(q1); }
  for (int k = 4; k <= 6; ++k) {
    grads(p1, q1, k);
    grads(p2, q2, k);
    a.step(1e-2);
    b.step(1e-2);
  }
  EXPECT_TRUE(torch::equal(p1, p2));
  EXPECT_TRUE(torch::equal(q1, q2));
  EXPECT_EQ(b.steps(), 6);
  std::string msg = error_of([&] {
    auto st = a.state();
    st.erase("optim.exp_avg_sq.q");
    b.load_state(st, "file.safetensors");
  });
  EXPECT_NE(msg.find("file.safetensors"), std::string::npos);
  EXPECT_NE(msg.find("optim.exp_avg_sq.q"), std::string::npos);
}

// The fused loop (train/adamw_kernel.h) against the seven torch ops it replaces, over steps, both
// groups, odd sizes (vector tails), an embedding-sized tensor split over threads, and a clipping
// scale applied inside the update against clip_grad_norm's in-place scaling. Not bit for bit:
// torch's add-with-alpha uses a fused multiply-add where the CPU has one, the loop never does (so
// it rounds the same on every machine); the two agree to an ulp or two.
TEST(AdamW, FusedUpdateMatchesTheUnfusedOps) {
  torch::manual_seed(7);
  const std::vector<std::vector<std::int64_t>> shapes = {{37, 19}, {1}, {15}, {300000}};
  std::vector<torch::Tensor> a, b;
  std::map<const void*, std::string> na, nb;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    auto p = torch::randn(shapes[i]);
    a.push_back(p.clone().requires_grad_());
    b.push_back(p.clone().requires_grad_());
    na[a.back().unsafeGetTensorImpl()] = "p" + std::to_string(i);
    nb[b.back().unsafeGetTensorImpl()] = "p" + std::to_string(i);
  }
  train::AdamWOptions o;
  o.weight_decay = 0.1;
  train::AdamW fused({a[0], a[3]}, {a[1], a[2]}, na, o);
  train::AdamW plain({b[0], b[3]}, {b[1], b[2]}, nb, o);
  plain.set_fused(false);
  const auto init3 = a[3].detach().clone();
  for (int step = 0; step < 5; ++step) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      // Large gradients on some steps so clipping bites; a zero gradient in one tensor.
      auto g = torch::randn(shapes[i]) * (step % 2 ? 50.0f : 0.01f);
      if (i == 1 && step == 2) g.zero_();
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g.clone();
    }
    const auto norm = train::global_grad_norm(a);
    fused.step(1e-3 * (step + 1), train::clip_scale(norm, 1.0));
    train::clip_grad_norm(b, 1.0);
    plain.step(1e-3 * (step + 1));
  }
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-6)) << "parameter " << i << ": " << (a[i] - b[i]).abs().max();
  const auto sa = fused.state(), sb = plain.state();
  for (const auto& [name, t] : sa) EXPECT_TRUE(torch::allclose(t, sb.at(name), 1e-5, 1e-8)) << name << ": " << (t - sb.at(name)).abs().max();
  // And the fused loop did move the weights, by about lr per step.
  EXPECT_GT((a[3] - init3).abs().mean().item<float>(), 1e-3f);
}

// One fused step with clipping against AdamW's formulas in fp64.
TEST(AdamW, FusedStepMatchesTheFormulaInFp64) {
  torch::manual_seed(8);
  const std::int64_t n = 1037;
  auto p = torch::randn({n}).requires_grad_();
  const auto p0 = p.detach().to(torch::kDouble);
  train::AdamWOptions o;
  o.weight_decay = 0.1;
  train::AdamW opt({p}, {}, {{p.unsafeGetTensorImpl(), "p"}}, o);
  const double lr = 0.01, max_norm = 0.5;
  for (int step = 1; step <= 2; ++step) {
    p.mutable_grad() = torch::randn({n}) * 3.0f;
    opt.step(lr, train::clip_scale(train::global_grad_norm({p}), max_norm));
  }
  // Replay both steps in fp64 with the same gradients.
  torch::manual_seed(8);
  torch::randn({n});  // p's draw
  auto q = p0.clone(), m = torch::zeros_like(q), v = torch::zeros_like(q);
  for (int step = 1; step <= 2; ++step) {
    auto g = (torch::randn({n}) * 3.0f).to(torch::kDouble);
    g = g * std::min(1.0, max_norm / (g.norm().item<double>() + 1e-6));
    q = q * (1 - lr * o.weight_decay);
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    const double bc1 = 1 - std::pow(o.beta1, step), bc2 = 1 - std::pow(o.beta2, step);
    q = q - lr / bc1 * m / ((v / bc2).sqrt() + o.eps);
  }
  EXPECT_TRUE(torch::allclose(p.detach().to(torch::kDouble), q, 0, 1e-6)) << (p.detach().to(torch::kDouble) - q).abs().max();
  EXPECT_TRUE(torch::allclose(opt.state().at("optim.exp_avg.p").to(torch::kDouble), m, 1e-5, 1e-9));
}

TEST(AdamW, UnfusableParametersTakeTheTorchOps) {
  // fp64 and non-contiguous parameters are not fused; the step still applies (by hand at step 1:
  // p - lr * sign(g) after the decay).
  auto d = torch::tensor({1.0, -2.0}, torch::kDouble).requires_grad_();
  auto base = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  auto t = base.t().requires_grad_();  // a leaf that is not contiguous
  ASSERT_FALSE(t.is_contiguous());
  train::AdamWOptions o;
  o.weight_decay = 0.0;
  train::AdamW opt({d, t}, {}, {{d.unsafeGetTensorImpl(), "d"}, {t.unsafeGetTensorImpl(), "t"}}, o);
  d.mutable_grad() = torch::tensor({0.5, -0.5}, torch::kDouble);
  t.mutable_grad() = torch::ones({2, 2}).t();
  opt.step(0.1);
  EXPECT_NEAR(d[0].item<double>(), 0.9, 1e-6);
  EXPECT_NEAR(d[1].item<double>(), -1.9, 1e-6);
  EXPECT_NEAR(t[0][1].item<float>(), 3.0f - 0.1f, 1e-6);
}

TEST(ClipGradNorm, BoundsTheGlobalNorm) {
  auto p = torch::zeros({2}).requires_grad_();
  auto q = torch::zeros({1}).requires_grad_();
  p.mutable_grad() = torch::tensor({3.0f, 0.0f});
  q.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(train::clip_grad_norm({p, q}, 1.0).item<double>(), 5.0, 1e-6);  // returns the norm before
  const double after = std::sqrt(p.grad().pow(2).sum().item<double>() + q.grad().pow(2).sum().item<double>());
  EXPECT_NEAR(after, 1.0, 1e-5);
  EXPECT_NEAR(p.grad()[0].item<float>() / q.grad()[0].item<float>(), 0.75, 1e-6);  // direction kept

  auto g = p.grad().clone();
  train::clip_grad_norm({p, q}, 10.0);  // already below: untouched, bit for bit
  EXPECT_TRUE(torch::equal(p.grad(), g));
  p.mutable_grad() = torch::tensor({30.0f, 40.0f});
  train::clip_grad_norm({p, q}, 0.0);  // 0 disables
  EXPECT_FLOAT_EQ(p.grad()[1].item<float>(), 40.0f);
}

// A run made when paths were stored relative to the training directory resumes with the same
// files named absolutely; a different file is still a changed configuration.
TEST(ResumeConfig, RelativeAndAbsolutePathsToTheSameFilesAgree) {
  train::RunConfig saved;
  saved.data.train_shards = {"data/brown/tokens-x/train.bin"};
  saved.data.val_shards = {"data/brown/tokens-x/val.bin"};
  saved.data.tokenizer = "runs/demo/tokenizer/";
  train::RunConfig now = saved;
  const std::string cwd = std::filesystem::current_path().string();
  now.data.train_shards = {cwd + "/data/brown/tokens-x/train.bin"};
  now.data.val_shards = {cwd + "/data/./brown/tokens-x/val.bin"};
  now.data.tokenizer = cwd + "/runs/demo/tokenizer";
  train::check_resume_config(saved, now, "ck.safetensors");  // no error
  now.data.train_shards = {cwd + "/data/kjv/tokens-x/train.bin"};
  auto msg = error_of([&] { train::check_resume_config(saved, now, "ck.safetensors"); });
  EXPECT_NE(msg.find("data.train_shards"), std::string::npos) << msg;
  train::RunConfig gpt2 = saved;
  gpt2.data.tokenizer = "gpt2";
  train::check_resume_config(gpt2, gpt2, "ck.safetensors");
}
