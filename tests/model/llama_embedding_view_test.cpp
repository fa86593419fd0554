// The Llama family's embedding view (model/causal_lm.h), what HCMA works through (issue 16): the
// forward from the model's own input embeddings is the forward from ids bit for bit, the residual
// stream after the last layer gives the logits through the final norm and the output matrix, and
// the view names the same tensors as the module (tied and untied). The GPT's view, checked the
// same way, forwards to its existing methods.
#include <gtest/gtest.h>

#include "model/causal_lm.h"
#include "model/gpt.h"
#include "model/llama.h"
#include "zoo/zoo.h"

namespace structlm::model {
namespace {

namespace F = torch::nn::functional;

LlamaConfig tiny_llama(bool tied) {
  LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 4;
  c.max_position_embeddings = 12;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = tied;
  return c;
}

class LlamaEmbeddingView : public ::testing::TestWithParam<bool> {};

TEST_P(LlamaEmbeddingView, ForwardFromItsOwnEmbeddingsIsTheForwardFromIds) {
  torch::manual_seed(11);
  auto net = zoo::make_llama(tiny_llama(GetParam()));
  net->eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(0, 40, {3, 12}, torch::kLong);
  auto logits = net->forward(ids);
  ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{3, 12, 40}));
  EXPECT_TRUE(net->forward_embeddings(net->model->embed_tokens(ids)).equal(logits));
  CausalLM& lm = *net;
  EXPECT_TRUE(lm.logits_from_embeddings(F::embedding(ids, lm.input_table())).equal(logits));
  EXPECT_TRUE(lm.next_token_logits(ids, nullptr).equal(logits));
  // Another input changes the output: the embeddings are what the layers read.
  EXPECT_FALSE(lm.logits_from_embeddings(F::embedding(ids, lm.input_table()) * 1.5).equal(logits));
  // A shorter sequence is the prefix's forward (causal, positions from 0).
  EXPECT_TRUE(torch::allclose(net->forward_embeddings(net->model->embed_tokens(ids.slice(1, 0, 5))), logits.slice(1, 0, 5),
                              1e-6, 1e-6));
  // Continuing a cache from embeddings is the full forward (rotary angles continue).
  KVCache cache;
  auto emb = net->model->embed_tokens(ids);
  auto first = net->forward_embeddings(emb.slice(1, 0, 7), &cache);
  auto rest = net->forward_embeddings(emb.slice(1, 7), &cache);
  EXPECT_EQ(cache.length(), 12);
  EXPECT_TRUE(torch::allclose(torch::cat({first, rest}, 1), logits, 1e-5, 1e-6));
  EXPECT_THROW(net->forward_embeddings(emb.slice(2, 0, 8)), c10::Error);  // not the model's width
}

TEST_P(LlamaEmbeddingView, HiddenStatesAtTheLastLayerGiveTheLogits) {
  torch::manual_seed(12);
  auto net = zoo::make_llama(tiny_llama(GetParam()));
  net->eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(0, 40, {2, 10}, torch::kLong);
  EXPECT_TRUE(net->hidden_states(ids, 0).equal(net->model->embed_tokens(ids)));
  auto last = net->hidden_states(ids, 3);
  ASSERT_EQ(last.sizes(), (std::vector<std::int64_t>{2, 10, 16}));
  EXPECT_TRUE(F::linear(net->model->norm(last), net->output_weight()).equal(net->forward(ids)));
  // Layer l + 1 is layer l through one more decoder layer.
  auto angles = torch::arange(0, 10, torch::kFloat64).unsqueeze(1) * net->inv_freq.unsqueeze(0);
  auto cos = angles.cos().to(torch::kFloat32), sin = angles.sin().to(torch::kFloat32);
  torch::Tensor dependency;  // none: a plain Llama
  EXPECT_TRUE(net->model->blocks[1]->forward(net->hidden_states(ids, 1), cos, sin, dependency).equal(net->hidden_states(ids, 2)));
  EXPECT_FALSE(net->hidden_states(ids, 1).equal(net->hidden_states(ids, 2)));
  CausalLM& lm = *net;
  EXPECT_TRUE(lm.residual_stream(ids, 2).equal(net->hidden_states(ids, 2)));
  EXPECT_TRUE(lm.logits_from_residual(lm.residual_stream(ids, lm.num_layers())).equal(net->forward(ids)));
  EXPECT_THROW(net->hidden_states(ids, 4), c10::Error);
  EXPECT_THROW(net->hidden_states(ids, -1), c10::Error);
  EXPECT_THROW(net->hidden_states(torch::zeros({1, 13}, torch::kLong), 1), c10::Error);  // beyond the context
}

TEST_P(LlamaEmbeddingView, NamesTheModulesOwnTensors) {
  const bool tied = GetParam();
  torch::manual_seed(13);
  auto net = zoo::make_llama(tiny_llama(tied));
  CausalLM& lm = *net;
  EXPECT_STREQ(lm.arch(), "llama");
  EXPECT_EQ(lm.num_layers(), 3);
  EXPECT_EQ(lm.width(), 16);
  EXPECT_EQ(lm.vocabulary_rows(), 40);
  EXPECT_EQ(lm.tied_output(), tied);
  auto params = lm.module().named_parameters(true);
  ASSERT_NE(params.find(lm.input_table_name()), nullptr);
  EXPECT_TRUE(params[lm.input_table_name()].is_same(lm.input_table()));
  EXPECT_EQ(lm.output_matrix().is_same(lm.input_table()), tied);
  if (!tied) EXPECT_TRUE(params["lm_head.weight"].is_same(lm.output_matrix()));
  EXPECT_EQ(params.find("lm_head.weight") != nullptr, !tied);
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, LlamaEmbeddingView, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "tied" : "untied"; });

TEST(GptEmbeddingView, ForwardsToTheGptsOwnMethods) {
  for (bool tied : {true, false}) {
    GPTConfig c;
    c.vocab_size = 40;
    c.block_size = 12;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 12;
    c.tied = tied;
    torch::manual_seed(14);
    auto net = zoo::make_gpt(c);
    net->eval();
    torch::NoGradGuard ng;
    CausalLM& lm = *net;
    auto ids = torch::randint(0, 40, {2, 12}, torch::kLong);
    EXPECT_STREQ(lm.arch(), "gpt");
    EXPECT_EQ(lm.num_layers(), 2);
    EXPECT_EQ(lm.width(), 12);
    EXPECT_EQ(lm.tied_output(), tied);
    EXPECT_TRUE(net->named_parameters(true)[lm.input_table_name()].is_same(net->wte->weight));
    EXPECT_TRUE(lm.input_table().is_same(net->wte->weight));
    EXPECT_EQ(lm.output_matrix().is_same(net->wte->weight), tied);
    EXPECT_TRUE(lm.logits_from_embeddings(F::embedding(ids, lm.input_table())).equal(net->forward(ids)));
    EXPECT_TRUE(lm.residual_stream(ids, 1).equal(net->hidden_states(ids, 1)));
    EXPECT_TRUE(lm.logits_from_residual(lm.residual_stream(ids, 2)).equal(net->forward(ids)));
  }
}

}  // namespace
}  // namespace structlm::model
