// The Llama family through the trainer (issue 16): model.arch "llama" in the run config (typed
// keys, refusals naming the key), the model it builds (parameter count, AdamW's groups), and
// whole runs as the GPT's tests check them: the loss goes down, resume is bit for bit in fp32
// and bf16, checkpoints carry arch "llama" and load as the model that was trained.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "core/io.h"
#include "core/rng.h"
#include "data/shard.h"
#include "model/checkpoint.h"
#include "run_util.h"
#include "test_util.h"
#include "cstde/dependency.h"
#include "train/config.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

using namespace structlm;
using structlm::testing::computed_fields;
using structlm::testing::error_of;
using structlm::testing::metrics;
using structlm::testing::random_shard;
using structlm::testing::tiny_run_settings;
using structlm::testing::TempDir;

namespace {

// A 2-layer, 32-wide Llama with grouped-query attention (4 heads, 2 key/value heads), untied.
train::RunConfig tiny_llama_run(const std::string& dir) {
  train::RunConfig c;
  c.model.arch = "llama";
  c.model.vocab_size = 64;
  c.model.block_size = 16;
  c.model.n_layer = 2;
  c.model.n_head = 4;
  c.model.n_embd = 32;
  c.model.tied = false;
  c.model.dropout = 0;
  c.model.llama.n_kv_head = 2;
  c.model.llama.intermediate_size = 80;
  tiny_run_settings(c, dir);
  return c;
}

model::ModelConfig model_section(const json& j) { return model::ModelConfig::from_json(j, "cfg.json"); }

std::string model_error(const json& j) {
  return error_of([&] { model_section(j); });
}

}  // namespace

// ---- the run config's model section ------------------------------------------------------------

TEST(LlamaRunConfig, TypedKeysRoundTripAndDerivedDefaultsAreWritten) {
  const json j = {{"model",
                   {{"arch", "llama"}, {"vocab_size", 100}, {"block_size", 32}, {"n_layer", 3}, {"n_head", 6},
                    {"n_embd", 96}, {"n_kv_head", 2}, {"intermediate_size", 200}, {"rope_theta", 500000.0},
                    {"rms_eps", 1e-6}, {"qkv_bias", true}, {"tied", false}}}};
  const auto c = train::RunConfig::from_json(j, "cfg.json");
  EXPECT_TRUE(c.model.is_llama());
  EXPECT_EQ(c.model.llama.n_kv_head, 2);
  EXPECT_EQ(c.model.llama.intermediate_size, 200);
  EXPECT_EQ(c.model.llama.rope_theta, 500000.0);
  EXPECT_EQ(c.model.llama.rms_eps, 1e-6);
  EXPECT_TRUE(c.model.llama.qkv_bias);
  EXPECT_EQ(c.to_json()["model"], j["model"]);  // exactly the keys given: no dropout, bias or cstde
  EXPECT_EQ(train::RunConfig::from_json(c.to_json(), "again").to_json(), c.to_json());

  // Left out: n_kv_head = n_head, intermediate_size = 8/3 n_embd rounded up to a multiple of 64,
  // rope_theta 10000, rms_eps 1e-5, no q/k/v biases; written out, so the run records them.
  const auto d = model_section({{"arch", "llama"}, {"n_layer", 2}, {"n_head", 4}, {"n_embd", 96}});
  EXPECT_EQ(d.llama.n_kv_head, 4);
  EXPECT_EQ(d.llama.intermediate_size, 256);  // 8/3 x 96 = 256 exactly
  EXPECT_EQ(model_section({{"arch", "llama"}, {"n_head", 4}, {"n_embd", 64}}).llama.intermediate_size, 192);  // 170.7
  EXPECT_EQ(d.llama.rope_theta, 10000.0);
  EXPECT_EQ(d.llama.rms_eps, 1e-5);
  EXPECT_FALSE(d.llama.qkv_bias);
  EXPECT_EQ(d.to_json()["n_kv_head"], 4);
  EXPECT_EQ(d.to_json()["intermediate_size"], 256);

  // The Hugging Face config it stands for.
  const auto h = model::llama_config(c.model, "cfg.json");
  EXPECT_EQ(h.model_type, "qwen2");  // q/k/v biases and no o bias: Qwen2's layout
  EXPECT_TRUE(h.attention_bias && h.qkv_bias_only);
  EXPECT_EQ(h.num_key_value_heads, 2);
  EXPECT_EQ(h.head_dim, 16);
  EXPECT_EQ(h.max_position_embeddings, 32);
  EXPECT_EQ(h.intermediate_size, 200);
  EXPECT_FALSE(h.tie_word_embeddings);
  EXPECT_EQ(model::llama_config(d, "cfg.json").model_type, "llama");

  // A GPT section is the GPT's JSON, byte for byte: no arch key, no Llama keys.
  const json gpt = {{"vocab_size", 64}, {"block_size", 16}, {"n_layer", 1}, {"n_head", 2}, {"n_embd", 32},
                    {"dropout", 0.1}, {"bias", true}, {"tied", true}};
  EXPECT_EQ(model_section(gpt).to_json(), model::GPTConfig::from_json(gpt, "x").to_json());
  json explicit_gpt = gpt;
  explicit_gpt["arch"] = "gpt";
  EXPECT_EQ(model_section(explicit_gpt).to_json(), model_section(gpt).to_json());
  EXPECT_FALSE(model_section(explicit_gpt).is_llama());

  // The example config is one.
  const auto tiny = train::RunConfig::load(std::string(STRUCTLM_SOURCE_DIR) + "/configs/llama-tiny.json");
  EXPECT_TRUE(tiny.model.is_llama());
  EXPECT_EQ(tiny.model.llama.n_kv_head, 2);
  // And its CSTDE twin: the same model, plus the structured init and the attention.
  const auto twin = train::RunConfig::load(std::string(STRUCTLM_SOURCE_DIR) + "/configs/llama-tiny-cstde.json");
  EXPECT_TRUE(twin.model.cstde.init && twin.model.cstde.attention);
  model::ModelConfig plain_twin = twin.model;
  plain_twin.cstde = model::CstdeConfig{};
  EXPECT_EQ(plain_twin.to_json(), tiny.model.to_json());
  EXPECT_EQ(twin.train.to_json(), tiny.train.to_json());
  EXPECT_EQ(twin.model.num_params() - tiny.model.num_params(), 4 * (2 * 256 * 32 + 32 + 4) + 3);
  EXPECT_EQ(zoo::make_model(twin.model, "llama-tiny-cstde.json").llama->num_params(), twin.model.num_params());

  // train --help lists the new keys.
  const std::string help = train::RunConfig::fields_help();
  for (const char* k : {"model.arch", "model.n_kv_head", "model.intermediate_size", "model.rope_theta", "model.rms_eps",
                        "model.qkv_bias", "model.cstde.init"})
    EXPECT_NE(help.find(k), std::string::npos) << k;
}

TEST(LlamaRunConfig, BadOrUnusedKeysAreErrorsNamingThem) {
  const json base = {{"arch", "llama"}, {"n_layer", 2}, {"n_head", 4}, {"n_embd", 64}};
  auto with = [&](const char* key, const json& value) {
    json j = base;
    j[key] = value;
    return model_error(j);
  };
  auto expect_names = [](const std::string& msg, std::initializer_list<const char*> parts, const char* where = "cfg.json") {
    EXPECT_NE(msg.find(where), std::string::npos) << msg;
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << p << " in: " << msg;
  };
  expect_names(model_error({{"arch", "mamba"}}), {"'arch'", "\"gpt\" or \"llama\""});
  expect_names(model_error({{"arch", 1}}), {"'arch'"});
  // Llama keys on a GPT, GPT keys on a Llama.
  expect_names(model_error({{"n_kv_head", 2}}), {"'n_kv_head'", "llama"});
  expect_names(model_error({{"arch", "gpt"}, {"rope_theta", 1e4}}), {"'rope_theta'", "llama"});
  expect_names(with("dropout", 0.0), {"'dropout'", "no dropout"});
  expect_names(with("bias", true), {"'bias'", "qkv_bias"});
  expect_names(with("n_kv_heads", 2), {"unknown field 'n_kv_heads'", "n_kv_head"});
  // CSTDE: the attention's keys need the attention on (else they would be silently unread); a
  // typo is named; the sizes are bounded as the GPT's.
  expect_names(with("cstde", {{"init", true}, {"rank", 8}}), {"'cstde.rank'", "cstde.attention true"});
  expect_names(with("cstde", {{"attention", true}, {"rnak", 8}}), {"'rnak'", "rank"});
  expect_names(with("cstde", {{"attention", true}, {"rank", 0}}), {"'cstde.rank'"});
  expect_names(with("cstde", {{"attention", true}, {"scorer", "trilinear"}}), {"scorer", "bilinear"});
  expect_names(with("cstde", {{"init", false}, {"init_permute", true}}), {"'cstde.init_permute'", "cstde.init true"});
  expect_names(with("cstde", {{"init", true}, {"window", 0}}), {"'cstde.window'"});
  expect_names(with("cstde", 3), {"'cstde'"});
  // Values.
  expect_names(with("n_kv_head", 3), {"'n_kv_head' (3)", "'n_head' (4)"});
  expect_names(with("n_kv_head", 8), {"'n_kv_head' (8)"});
  expect_names(with("n_kv_head", -1), {"'n_kv_head'", ">= 0"});
  expect_names(with("rope_theta", 0), {"'rope_theta'", "> 0"});
  expect_names(with("rms_eps", 1.5), {"'rms_eps'", "(0, 1)"});
  expect_names(with("intermediate_size", std::int64_t(1) << 30), {"'intermediate_size'"});
  expect_names(with("qkv_bias", "yes"), {"qkv_bias"});
  expect_names(with("n_embd", 36), {"'n_embd'", "even head size"});  // 36 / 4 = 9: rotary pairs
  expect_names(with("n_embd", 30), {"'n_embd'"});                    // not divisible by n_head
  expect_names(with("vocab_size", 0), {"'vocab_size'"});

  // A config built in code is checked where the model is built (the trainer).
  TempDir tmp;
  train::RunConfig c = tiny_llama_run(tmp.path());
  const std::string run = tmp / "run";
  c.model.dropout = 0.1;
  expect_names(error_of([&] { train::train(c, run, false); }), {"'dropout'"}, run.c_str());
}

// CSTDE's attention on a Llama takes every key the GPT's does, writes them all back, and its
// model has the parameters the config counts.
TEST(LlamaRunConfig, CstdeAttentionKeysRoundTrip) {
  const json section = {{"attention", true},   {"carry", false},        {"rank", 8},
                        {"buckets", 16},       {"max_distance", 64},    {"epsilon", 1e-5},
                        {"prior_init", "zero"}, {"beta_init", 0.5},     {"lr_mult", 3.0},
                        {"decay_uv", true},    {"scorer", "distance"},  {"prior_trainable", false},
                        {"init", true},        {"window", 4},           {"init_tokens", "split"}};
  const json j = {{"arch", "llama"}, {"vocab_size", 50}, {"block_size", 16}, {"n_layer", 2},
                  {"n_head", 4},     {"n_embd", 32},     {"n_kv_head", 2},   {"cstde", section}};
  const model::ModelConfig c = model_section(j);
  EXPECT_TRUE(c.cstde.attention);
  EXPECT_FALSE(c.cstde.carry);
  EXPECT_EQ(c.cstde.rank, 8);
  EXPECT_EQ(c.cstde.buckets, 16);
  EXPECT_EQ(c.cstde.max_distance, 64);
  EXPECT_EQ(c.cstde.epsilon, 1e-5);
  EXPECT_EQ(c.cstde.prior_init, "zero");
  EXPECT_EQ(c.cstde.beta_init, 0.5);
  EXPECT_EQ(c.cstde.lr_mult, 3.0);
  EXPECT_TRUE(c.cstde.decay_uv);
  EXPECT_EQ(c.cstde.scorer, "distance");
  EXPECT_FALSE(c.cstde.prior_trainable);
  EXPECT_EQ(c.cstde.window, 4);
  const json back = c.to_json();
  for (auto it = section.begin(); it != section.end(); ++it) EXPECT_EQ(back["cstde"][it.key()], it.value()) << it.key();
  EXPECT_EQ(model_section(back).to_json(), back);
  // The model: 2 layers x (4 gates + no U, V, frozen bias), no carry.
  auto net = zoo::make_model(c, "cfg").llama;
  EXPECT_EQ(net->num_params(), c.num_params());
  model::ModelConfig plain = c;
  plain.cstde = model::CstdeConfig{};
  EXPECT_EQ(c.num_params() - plain.num_params(), 2 * 4);
  // Without the attention a Llama's section is the structured init's four keys, as before.
  model::ModelConfig init_only = c;
  init_only.cstde.attention = false;
  EXPECT_EQ(init_only.to_json()["cstde"].size(), 4u);
}

// AdamW's groups of a CSTDE Llama: CSTDE's own parameters, known by name, get model.cstde.lr_mult
// and its decay rule (U and V decay only with decay_uv; beta, gamma, the bias never), as a GPT's.
TEST(LlamaRunConfig, CstdeParametersGetTheirOwnOptimizerGroups) {
  TempDir tmp;
  train::RunConfig c = tiny_llama_run(tmp.path());
  c.model.cstde.attention = true;
  c.model.cstde.lr_mult = 5;
  auto net = zoo::make_model(c.model, "cfg").llama;
  std::map<const void*, std::string> names;
  for (auto& item : net->named_parameters()) names[item.value().unsafeGetTensorImpl()] = item.key();
  const auto groups = train::param_groups(net->decay_params(), net->no_decay_params(), names, c.model.cstde);
  std::set<std::string> boosted;
  std::size_t all = 0;
  for (const auto& g : groups) {
    all += g.params.size();
    for (const auto& p : g.params) {
      const std::string& name = names[p.unsafeGetTensorImpl()];
      EXPECT_EQ(g.lr_mult, cstde::is_cstde_parameter(name) ? 5.0 : 1.0) << name;
      if (g.lr_mult == 5.0) {
        boosted.insert(name);
        EXPECT_FALSE(g.decay) << name;  // decay_uv is off
      }
    }
  }
  EXPECT_EQ(all, net->named_parameters().size());
  EXPECT_EQ(boosted.size(), 2u * 4 + 1);  // per layer u, v, rel_bias, dep_beta; one carry logit
  EXPECT_TRUE(boosted.count("model.layers.0.self_attn.dep_beta"));
  EXPECT_TRUE(boosted.count("model.layers.1.dep.carry_logit"));
}

// ---- the model the trainer builds --------------------------------------------------------------

TEST(LlamaRunConfig, ParameterCountAndAdamWGroupsMatchTheModel) {
  for (bool tied : {true, false})
    for (bool qkv_bias : {false, true})
      for (std::int64_t kv : {1, 2, 4}) {
        model::ModelConfig c;
        c.arch = "llama";
        c.vocab_size = 50;
        c.block_size = 8;
        c.n_layer = 2;
        c.n_head = 4;
        c.n_embd = 32;
        c.tied = tied;
        c.llama.n_kv_head = kv;
        c.llama.qkv_bias = qkv_bias;
        auto net = zoo::make_model(c, "cfg").llama;
        ASSERT_TRUE(net);
        EXPECT_EQ(net->num_params(), c.num_params()) << tied << qkv_bias << kv;
        std::set<const void*> decay, no_decay;
        for (auto& p : net->decay_params()) decay.insert(p.unsafeGetTensorImpl());
        for (auto& p : net->no_decay_params()) no_decay.insert(p.unsafeGetTensorImpl());
        std::size_t all = 0;
        for (auto& item : net->named_parameters()) {
          ++all;
          const void* impl = item.value().unsafeGetTensorImpl();
          const bool is_matrix = item.value().dim() >= 2;
          EXPECT_EQ(decay.count(impl), is_matrix ? 1u : 0u) << item.key();
          EXPECT_EQ(no_decay.count(impl), is_matrix ? 0u : 1u) << item.key();
          // transformers' initialisation: N(0, 0.02) matrices, zero biases, unit RMSNorm gains.
          if (is_matrix)
            EXPECT_NEAR(item.value().std().item<double>(), 0.02, 0.004) << item.key();
          else if (item.key().find("bias") != std::string::npos)
            EXPECT_EQ(item.value().abs().max().item<double>(), 0.0) << item.key();
          else
            EXPECT_TRUE(torch::equal(item.value(), torch::ones_like(item.value()))) << item.key();
        }
        EXPECT_EQ(decay.size() + no_decay.size(), all);
        EXPECT_EQ(net->named_parameters().contains("lm_head.weight"), !tied);
        EXPECT_EQ(net->named_parameters().contains("model.layers.0.self_attn.q_proj.bias"), qkv_bias);
        EXPECT_FALSE(net->named_parameters().contains("model.layers.0.self_attn.o_proj.bias"));
      }
  // The loss is the cross-entropy of the model's own logits.
  model::ModelConfig c;
  c.arch = "llama";
  c.vocab_size = 50;
  c.block_size = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 16;
  torch::manual_seed(3);
  auto net = zoo::make_model(c, "cfg").llama;
  auto ids = torch::randint(50, {2, 8}, torch::kLong), targets = torch::randint(50, {2, 8}, torch::kLong);
  auto expected = torch::nn::functional::cross_entropy(net->forward(ids).view({-1, 50}), targets.view({-1}));
  EXPECT_NEAR(net->loss(ids, targets).item<double>(), expected.item<double>(), 1e-5);
}

// ---- whole runs ----------------------------------------------------------------------------------

TEST(LlamaTrainer, LossGoesDownOnARepetitiveCorpus) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  train::RunConfig cfg = tiny_llama_run(dir);
  std::vector<std::uint32_t> cycle;  // after one token the next is certain
  for (int i = 0; i < 4000; ++i) cycle.push_back(std::uint32_t(i % 16));
  data::write_shard(dir + "/cycle.bin", cycle, 64);
  cfg.data.train_shards = {dir + "/cycle.bin"};
  cfg.data.val_shards = {dir + "/cycle.bin"};
  cfg.train.max_steps = 60;
  cfg.train.warmup_steps = 5;
  cfg.train.lr = 1e-2;
  cfg.train.min_lr = 1e-3;
  cfg.train.grad_clip = 1.0;
  cfg.train.eval_every = 0;
  cfg.train.ckpt_every = 0;
  cfg.train.log_every = 10;
  train::TrainResult r = train::train(cfg, dir + "/run", false);
  auto m = metrics(dir + "/run");
  ASSERT_EQ(m.size(), 6u);
  const double first = m.front()["loss"], last = m.back()["loss"];
  std::printf("[ measured ] llama, 60 steps: loss %.3f -> %.3f, val %.3f, %.0f tokens/s\n", first, last,
              r.final_val_loss, r.tokens_per_s);
  EXPECT_LT(last, 0.25 * first);
  EXPECT_LT(r.final_val_loss, 0.5);  // ln 64 = 4.16 for a guess
  EXPECT_EQ(r.steps, 60);
}

// The precision, and "_cstde" for CSTDE's dependency-weighted attention on the Llama.
class LlamaTrainerInPrecision : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(LlamaTrainer, LlamaTrainerInPrecision,
                         ::testing::Values("fp32", "bf16", "fp32_cstde", "bf16_cstde"),
                         [](const auto& info) { return std::string(info.param); });

// As Trainer.ResumeIsBitForBitLikeAnUninterruptedRun for the GPT: stopped at step 4 and resumed,
// a run ends with every weight and moment bit-identical to the uninterrupted one.
TEST_P(LlamaTrainerInPrecision, ResumeIsBitForBitLikeAnUninterruptedRun) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  train::RunConfig cfg = tiny_llama_run(dir);
  const std::string param = GetParam();
  const bool cstde = param.find("_cstde") != std::string::npos;
  cfg.train.precision = param.substr(0, 4);
  if (cstde) {
    // Off the saddle, with its own learning rate: every part of the path trains.
    cfg.model.cstde.attention = true;
    cfg.model.cstde.rank = 4;
    cfg.model.cstde.beta_init = 0.5;
    cfg.model.cstde.lr_mult = 3;
  }
  const std::string straight = dir + "/straight", split = dir + "/split";

  train::TrainResult full = train::train(cfg, straight, /*resume=*/false);
  EXPECT_EQ(full.steps, 8);
  train::RunConfig first = cfg;
  first.train.stop_at_step = 4;
  EXPECT_EQ(train::train(first, split, false).steps, 4);
  EXPECT_EQ(train::train(cfg, split, /*resume=*/true).steps, 8);

  model::Checkpoint a = model::read_any_checkpoint(straight + "/checkpoints/latest.safetensors");
  model::Checkpoint b = model::read_any_checkpoint(split + "/checkpoints/latest.safetensors");
  EXPECT_EQ(a.arch, "llama");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  std::size_t optim = 0;
  for (const auto& [name, t] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, b.tensors[name])) << name;
    optim += name.rfind("optim.", 0) == 0;
    if (t.is_floating_point()) EXPECT_EQ(t.scalar_type(), torch::kFloat) << name;
  }
  EXPECT_GT(optim, 2u);
  EXPECT_TRUE(a.tensors.count("model.layers.1.mlp.gate_proj.weight"));
  EXPECT_TRUE(a.tensors.count("optim.exp_avg.lm_head.weight"));
  EXPECT_EQ(a.meta["train_state"]["step"], 8);
  EXPECT_EQ(a.meta["train_state"], b.meta["train_state"]);
  EXPECT_EQ(a.meta["run_config"], cfg.to_json());
  EXPECT_EQ(a.meta["config"]["model_type"], "llama");
  EXPECT_EQ(a.meta["config"]["num_key_value_heads"], 2);
  EXPECT_EQ(a.meta.contains("cstde"), cstde);
  EXPECT_EQ(a.tensors.count("model.layers.1.dep.u.weight"), cstde ? 1u : 0u);
  EXPECT_EQ(a.tensors.count("optim.exp_avg.model.layers.1.self_attn.dep_beta"), cstde ? 1u : 0u);

  auto ma = metrics(straight), mb = metrics(split);
  ASSERT_EQ(ma.size(), 8u);
  ASSERT_EQ(mb.size(), 8u);
  for (std::size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(computed_fields(ma[i]), computed_fields(mb[i])) << i;
    for (const char* k : {"prior_weight", "carry_gate", "d_entropy"}) EXPECT_EQ(ma[i].contains(k), mb[i].contains(k)) << k;
    if (ma[i].contains("d_entropy")) EXPECT_EQ(ma[i]["d_entropy"], mb[i]["d_entropy"]) << i;
  }
  EXPECT_LT(ma.back()["val_loss"].get<double>(), std::log(64.0));
  // The prior's use is logged at every evaluation of a CSTDE run, as for a GPT, and never otherwise.
  std::size_t evals = 0;
  for (const auto& j : ma) {
    if (!j.contains("val_loss")) continue;
    ++evals;
    EXPECT_EQ(j.contains("prior_weight") && j.contains("carry_gate") && j.contains("d_entropy"), cstde) << j.dump();
    if (!cstde) continue;
    EXPECT_GT(j["prior_weight"].get<double>(), 0.4);  // beta_init 0.5, a few steps of lr 3e-3 x 3
    EXPECT_GT(j["carry_gate"].get<double>(), 0.0);
    EXPECT_LT(j["carry_gate"].get<double>(), 1.0);
    EXPECT_GT(j["d_entropy"].get<double>(), 0.0);
    EXPECT_LT(j["d_entropy"].get<double>(), std::log(16.0));
  }
  EXPECT_EQ(evals, 4u);
  for (const char* f : {"step_0000003", "step_0000006", "step_0000008", "latest"})
    EXPECT_TRUE(file_exists(straight + "/checkpoints/" + f + ".safetensors")) << f;
  EXPECT_EQ(train::RunConfig::load(straight + "/config.json").to_json(), cfg.to_json());

  // The checkpoint is the model that was trained: loaded by arch (as eval, sample and export
  // load it), its loss on a batch is the one its own tensors give.
  auto loaded = zoo::load_any_model(straight + "/checkpoints/latest.safetensors");
  ASSERT_EQ(loaded.arch, "llama");
  EXPECT_EQ(loaded.llama->config().num_key_value_heads, 2);
  EXPECT_EQ(loaded.lm().context_length(), 16);
  for (auto& item : loaded.llama->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), a.tensors[item.key()])) << item.key();

  // Another seed ends elsewhere: the comparison above can fail.
  train::RunConfig other = cfg;
  other.train.seed = 8;
  train::train(other, dir + "/other", false);
  model::Checkpoint c = model::read_any_checkpoint(dir + "/other/checkpoints/latest.safetensors");
  EXPECT_FALSE(torch::equal(a.tensors["model.layers.0.self_attn.q_proj.weight"],
                            c.tensors["model.layers.0.self_attn.q_proj.weight"]));
}

TEST(LlamaTrainer, ResumeRefusesAnotherArchitectureOrShape) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  train::RunConfig cfg = tiny_llama_run(dir);
  cfg.train.max_steps = 2;
  train::train(cfg, dir + "/llama", false);

  train::RunConfig changed = cfg;
  changed.model.llama.n_kv_head = 1;
  std::string msg = error_of([&] { train::train(changed, dir + "/llama", true); });
  EXPECT_NE(msg.find("model.n_kv_head was 2, now 1"), std::string::npos) << msg;

  // A GPT run resumed as a Llama, and the other way round: named by model.arch.
  train::RunConfig gpt = cfg;
  gpt.model.arch = "gpt";
  train::train(gpt, dir + "/gpt", false);
  msg = error_of([&] { train::train(cfg, dir + "/gpt", true); });
  EXPECT_NE(msg.find("model.arch was null, now \"llama\""), std::string::npos) << msg;
  msg = error_of([&] { train::train(gpt, dir + "/llama", true); });
  EXPECT_NE(msg.find("model.arch was \"llama\""), std::string::npos) << msg;

  train::RunConfig longer = cfg;
  longer.train.max_steps = 3;
  EXPECT_EQ(train::train(longer, dir + "/llama", true).steps, 3);
}

// CSTDE's structured init on a Llama (issue 16): the config round-trips with only the init's keys,
// and the trainer builds embed_tokens from the counts as it builds the GPT's wte: structured rows
// rescaled to the random init's norm 0.02 sqrt(d), with the permuted control too.
TEST(LlamaTrainer, StructuredInitBuildsTheInputTable) {
  const json j = {{"arch", "llama"}, {"n_layer", 2}, {"n_head", 4}, {"n_embd", 32},
                  {"cstde", {{"init", true}, {"window", 4}, {"init_tokens", "split"}, {"init_permute", false}}}};
  const auto m = model_section(j);
  EXPECT_TRUE(m.cstde.init);
  EXPECT_EQ(m.cstde.window, 4);
  EXPECT_EQ(m.to_json()["cstde"], j["cstde"]);  // only the init's keys, written back
  EXPECT_EQ(model_section(m.to_json()).to_json(), m.to_json());
  EXPECT_FALSE(model_section({{"arch", "llama"}, {"n_head", 4}, {"n_embd", 32}}).to_json().contains("cstde"));

  TempDir tmp;
  for (bool permute : {false, true}) {
    train::RunConfig c = tiny_llama_run(tmp.path());
    c.model.cstde.init = true;
    c.model.cstde.init_permute = permute;
    c.train.max_steps = 2;
    const std::string run = tmp / (permute ? "permuted" : "plain");
    train::train(c, run, false);
    const json st = load_json(run + "/structured_init.json");
    EXPECT_EQ(st["source"], "trained");
    EXPECT_GT(st["rows_structured"].get<int>(), 40);  // random tokens: nearly all 64 co-occur
    EXPECT_EQ(st["rows_permuted"].get<int>() > 0, permute);
    // The run's config records the switch; its step-0 table (not kept) is checked through the
    // counts: the init ran on the Llama's own table, whose width is the model's.
    EXPECT_TRUE(load_json(run + "/config.json")["model"]["cstde"]["init"].get<bool>());
    EXPECT_EQ(st["singular_values"].size(), 32u);
  }
}
