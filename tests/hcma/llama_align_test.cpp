// HCMA and its baselines on a Llama-family model (issue 16), through the embedding view both
// architectures give (model/causal_lm.h): the contextual statistics against a direct loop over
// the Llama's hidden states, and every method's guarantee that only the input table
// (model.embed_tokens.weight) changes: in memory, and on the files, byte for byte, by the same
// check the GPT's results pass (hcma/frozen_check.h); tied sources come back untied with the
// original matrix as lm_head, and the file loads back as the same model.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "data/shard.h"
#include "hcma/align.h"
#include "hcma/align_method.h"
#include "hcma/context_stats.h"
#include "hcma/frozen_check.h"
#include "hcma_test_util.h"
#include "model/checkpoint.h"
#include "support/temp_dir.h"
#include "zoo/zoo.h"

namespace structlm::hcma {
namespace {

namespace F = torch::nn::functional;
using test_support::tiny_llama;
using test_support::write_stream;
using test_util::TempDir;

const char* const kInput = "model.embed_tokens.weight";

std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (auto& p : m.named_parameters(true)) out[p.key()] = p.value().detach().clone();
  return out;
}

// In windows of the model's context (16), and of a capped one (8: align --context).
TEST(HcmaLlama, ContextStatsMatchADirectLoopOverHiddenStates) {
  TempDir dir;
  torch::manual_seed(21);
  auto net = zoo::make_llama(tiny_llama());
  data::TokenStream s({write_stream(dir / "c.bin", 16 * 4 + 9, 40)});  // 4 full windows and a short one
  for (std::int64_t window : {0, 8}) {
    auto stats = collect_context_stats(*net, s, -1, 0, 3, window);
    const std::size_t T = window ? std::size_t(window) : 16;
    EXPECT_EQ(stats.layer, 1);  // the middle of 2 layers
    EXPECT_EQ(stats.tokens, 73);
    ASSERT_EQ(stats.mean.sizes(), (std::vector<std::int64_t>{40, 12}));

    torch::NoGradGuard ng;
    std::vector<std::int64_t> ids(73);
    s.read(0, 73, ids.data());
    std::map<std::int64_t, std::vector<torch::Tensor>> states;
    for (std::size_t start = 0; start < 73; start += T) {
      const std::int64_t len = std::min<std::int64_t>(std::int64_t(T), 73 - std::int64_t(start));
      auto idx = torch::tensor(std::vector<std::int64_t>(ids.begin() + start, ids.begin() + start + len)).unsqueeze(0);
      auto h = net->hidden_states(idx, 1)[0].to(torch::kFloat64);
      for (std::int64_t t = 0; t < len; ++t) states[ids[start + t]].push_back(h[t]);
    }
    for (std::int64_t v = 0; v < 40; ++v) {
      auto it = states.find(v);
      const std::int64_t n = it == states.end() ? 0 : std::int64_t(it->second.size());
      ASSERT_EQ(stats.counts[v].item<std::int64_t>(), n) << "token " << v;
      if (n == 0) continue;
      auto X = torch::stack(it->second);
      EXPECT_TRUE(torch::allclose(stats.mean[v].to(torch::kFloat64), X.mean(0), 1e-5, 1e-5)) << "token " << v;
      if (n >= 2) EXPECT_TRUE(torch::allclose(stats.var[v].to(torch::kFloat64), X.var(0, true), 1e-4, 1e-5)) << "token " << v;
    }
  }
  EXPECT_THROW(collect_context_stats(*net, s, 3), Error);  // beyond the model's 2 layers
  EXPECT_THROW(collect_context_stats(*net, s, 1, 0, 3, 17), Error);  // beyond its context
}

// align_embeddings' context caps the windows of the statistics pass and the LM batches: the
// report says so, the result differs from the full windows', and a cap beyond the model's
// context (or below 2) is an error naming it.
TEST(HcmaLlama, AlignInCappedWindows) {
  TempDir dir;
  torch::manual_seed(24);
  auto net = zoo::make_llama(tiny_llama());
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  AlignOptions o;
  o.loop.steps = 5;
  o.loop.batch_size = 2;
  o.hcma.hierarchy.branching = 2;
  o.hcma.hierarchy.depth = 2;
  o.hcma.hierarchy.min_count = 3;
  o.hcma.terms.neighbours = 4;
  o.hcma.lambda_lm = 0.5;
  auto full = align_embeddings(*net, s, o);
  auto capped = align_embeddings(*net, s, o, "", {}, 8);
  EXPECT_FALSE(full.report.contains("context"));
  EXPECT_EQ(capped.report["context"], 8);
  EXPECT_FALSE(capped.E.equal(full.E));
  EXPECT_TRUE(align_embeddings(*net, s, o, "", {}, 16).E.equal(full.E));  // the model's own context
  for (std::int64_t bad : {1, 17}) {
    auto msg = test_util::error_of([&] { align_embeddings(*net, s, o, "", {}, bad); });
    EXPECT_NE(msg.find("context " + std::to_string(bad)), std::string::npos) << msg;
  }
}

AlignOptions small_options(const std::string& method, int steps) {
  AlignOptions o;
  o.method = method;
  o.loop.steps = steps;
  o.loop.batch_size = 2;
  o.loop.lr = 0.05;
  o.hcma.hierarchy.branching = 2;
  o.hcma.hierarchy.depth = 2;
  o.hcma.hierarchy.min_count = 3;
  o.hcma.terms.neighbours = 4;
  return o;
}

class HcmaLlamaAlign : public ::testing::TestWithParam<bool> {};

// Every method, tied and untied: the source is untouched; the aligned model is a Llama, untied,
// with E as its input table, the source's output matrix as lm_head and every other tensor
// equal; from E⁰ it computes the source's logits; the trained methods lower their objective.
TEST_P(HcmaLlamaAlign, EveryMethodChangesOnlyTheInputTable) {
  const bool tied = GetParam();
  TempDir dir;
  torch::manual_seed(22);
  auto net = zoo::make_llama(tiny_llama(tied));
  net->eval();
  const auto original = snapshot(*net);
  const torch::Tensor out0 = net->output_weight().detach().clone();
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  auto ids = torch::randint(0, 40, {2, 16}, torch::kLong);
  torch::Tensor logits0;
  {
    torch::NoGradGuard ng;
    logits0 = net->forward(ids);
  }
  for (const auto& method : method_names()) {
    AlignOptions o = small_options(method, 30);
    if (method == "hcma") o.hcma.lambda_lm = 0.5;  // the LM term through the Llama too
    auto r = align_embeddings(*net, s, o);
    ASSERT_EQ(r.E.sizes(), original.at(kInput).sizes()) << method;
    EXPECT_GT((r.E - original.at(kInput)).abs().max().item<double>(), 0) << method << " left E as it was";
    for (auto& p : net->named_parameters(true)) EXPECT_TRUE(p.value().equal(original.at(p.key()))) << method << " " << p.key();
    if (o.trained()) {
      const auto& log = r.report["log"];
      ASSERT_GE(log.size(), 2u);
      EXPECT_LT(log.back()["total"].get<double>(), log.front()["total"].get<double>()) << method;
    }
    auto aligned = with_input_embeddings(*net, r.E);
    ASSERT_EQ(aligned.arch, "llama") << method;
    ASSERT_TRUE(aligned.llama) << method;
    EXPECT_FALSE(aligned.llama->config().tie_word_embeddings);
    EXPECT_TRUE(aligned.llama->model->embed_tokens->weight.equal(r.E)) << method;
    EXPECT_TRUE(aligned.llama->lm_head->weight.equal(out0)) << method;
    for (auto& p : aligned.llama->named_parameters(true))
      if (p.key() != kInput && p.key() != "lm_head.weight") EXPECT_TRUE(p.value().equal(original.at(p.key()))) << p.key();
    for (auto& p : aligned.llama->parameters()) EXPECT_FALSE(p.requires_grad());
  }
  // With E⁰ as its input the aligned (untied) model is the source, logit for logit.
  auto same = with_input_embeddings(*net, original.at(kInput));
  torch::NoGradGuard ng;
  EXPECT_TRUE(same.lm().next_token_logits(ids, nullptr).equal(logits0));
}

// On the files: the byte-level check the GPT's results pass accepts the aligned Llama, loads it
// back as the same model, and names a tensor that changed.
TEST_P(HcmaLlamaAlign, TheFileCheckAcceptsTheAlignedModelAndCatchesChanges) {
  const bool tied = GetParam();
  TempDir dir;
  torch::manual_seed(23);
  auto net = zoo::make_llama(tiny_llama(tied));
  net->eval();
  data::TokenStream s({write_stream(dir / "c.bin", 2000, 40)});
  auto r = align_embeddings(*net, s, small_options("hcma", 10));
  auto aligned = with_input_embeddings(*net, r.E);
  const std::string src = dir / "src.safetensors", out = dir / "aligned.safetensors";
  model::save_checkpoint(src, net, json::object());
  model::save_checkpoint(out, aligned.llama, json::object());
  const auto source = model::read_any_checkpoint(src);
  EXPECT_EQ(source.tensors.count("lm_head.weight"), tied ? 0u : 1u);
  auto bad = frozen_weight_violations(source, model::read_any_checkpoint(out));
  EXPECT_TRUE(bad.empty()) << (bad.empty() ? "" : bad[0]);
  EXPECT_EQ(input_table_name("llama"), kInput);
  EXPECT_EQ(input_table_name("gpt"), "wte.weight");

  auto back = zoo::load_any_model(out);
  ASSERT_EQ(back.arch, "llama");
  EXPECT_FALSE(back.llama->config().tie_word_embeddings);
  auto ids = torch::randint(0, 40, {2, 16}, torch::kLong);
  {
    torch::NoGradGuard ng;
    EXPECT_TRUE(back.lm().next_token_logits(ids, nullptr).equal(aligned.lm().next_token_logits(ids, nullptr)));
  }

  // One changed RMSNorm gain is caught and named.
  auto& gain = aligned.llama->model->blocks[1]->post_attention_layernorm->weight;
  const torch::Tensor gain0 = gain.detach().clone();
  {
    torch::NoGradGuard ng;
    gain.add_(1e-3);
  }
  model::save_checkpoint(out, aligned.llama, json::object());
  bad = frozen_weight_violations(source, model::read_any_checkpoint(out));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("model.layers.1.post_attention_layernorm.weight"), std::string::npos) << bad[0];
  // An output matrix that is not the source's is named too.
  {
    torch::NoGradGuard ng;
    gain.copy_(gain0);
    aligned.llama->lm_head->weight.copy_(r.E);
  }
  model::save_checkpoint(out, aligned.llama, json::object());
  bad = frozen_weight_violations(source, model::read_any_checkpoint(out));
  ASSERT_GE(bad.size(), 1u);
  EXPECT_NE(bad[0].find("lm_head.weight"), std::string::npos) << bad[0];
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, HcmaLlamaAlign, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "tied" : "untied"; });

}  // namespace
}  // namespace structlm::hcma
