// Llama-family config.json (issue 16): published configurations read as the models they describe
// (TinyLlama 1.1B, Llama 3.1 8B, Mistral 7B v0.2, Qwen2 0.5B, their sizes as published), and
// the settings this reading does not compute refused by field. Sharded checkpoint indexes.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "formats/hf_llama_config.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;

namespace {

HfLlamaConfig parse(const std::string& text) {
  return parse_hf_llama_config(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), "config.json");
}
std::string refusal(const std::string& text) { return error_of([&] { parse(text); }); }

const char* const kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
  "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
  "num_key_value_heads": 4, "max_position_embeddings": 2048, "rms_norm_eps": 1e-05, "rope_scaling": null,
  "tie_word_embeddings": false, "vocab_size": 32000, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"})";
const char* const kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", "attention_bias": false,
  "mlp_bias": false, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
  "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "tie_word_embeddings": false,
  "vocab_size": 128256, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})";
const char* const kMistral = R"({
  "architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_act": "silu", "hidden_size": 4096,
  "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": null,
  "tie_word_embeddings": false, "vocab_size": 32000})";
const char* const kQwen2 = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu", "hidden_size": 896,
  "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
  "max_position_embeddings": 32768, "max_window_layers": 24, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "use_sliding_window": false, "tie_word_embeddings": true, "vocab_size": 151936})";

}  // namespace

TEST(HfLlamaConfig, PublishedConfigurationsReadAsTheirModels) {
  const auto t = parse(kTinyLlama);
  EXPECT_EQ(t.model_type, "llama");
  EXPECT_EQ(t.hidden_size, 2048);
  EXPECT_EQ(t.num_key_value_heads, 4);
  EXPECT_EQ(t.head_dim, 64);
  EXPECT_DOUBLE_EQ(t.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(t.rope_theta, 10000.0);  // the default when absent
  EXPECT_EQ(t.rope_factor, 0.0);
  EXPECT_FALSE(t.tie_word_embeddings || t.attention_bias || t.mlp_bias);
  EXPECT_EQ(t.bos_token_id, 1);
  EXPECT_EQ(t.eos_token_id, 2);

  const auto l = parse(kLlama31);
  EXPECT_EQ(l.vocab_size, 128256);
  EXPECT_EQ(l.head_dim, 128);
  EXPECT_DOUBLE_EQ(l.rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(l.rope_factor, 8.0);
  EXPECT_DOUBLE_EQ(l.rope_low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(l.rope_high_freq_factor, 4.0);
  EXPECT_EQ(l.rope_original_max_positions, 8192);
  EXPECT_EQ(l.eos_token_id, 128001);  // the first of the list

  const auto m = parse(kMistral);
  EXPECT_EQ(m.model_type, "mistral");
  EXPECT_EQ(m.intermediate_size, 14336);

  const auto q = parse(kQwen2);
  EXPECT_EQ(q.head_dim, 64);
  EXPECT_TRUE(q.attention_bias && q.qkv_bias_only);  // Qwen2: q/k/v biases always, o none
  EXPECT_TRUE(q.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(q.rms_norm_eps, 1e-6);
}

TEST(HfLlamaConfig, AbsentKeyValueHeadsMeanMultiHeadAndHeadDimMayBeGiven) {
  auto c = parse(R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64, "intermediate_size": 100,
                     "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 16})");
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  c = parse(R"({"model_type": "mistral", "vocab_size": 10, "hidden_size": 60, "intermediate_size": 100,
                "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                "max_position_embeddings": 16})");
  EXPECT_EQ(c.head_dim, 16);  // head_dim x heads need not be hidden_size
}

TEST(HfLlamaConfig, WhatIsNotComputedIsRefusedByField) {
  const std::string base = R"("vocab_size": 10, "hidden_size": 64, "intermediate_size": 100, "num_hidden_layers": 1,
                              "num_attention_heads": 4, "max_position_embeddings": 4096)";
  auto with = [&](const std::string& type, const std::string& extra) {
    return refusal("{\"model_type\": \"" + type + "\", " + base + extra + "}");
  };
  EXPECT_NE(with("gpt2", "").find("field 'model_type' = \"gpt2\""), std::string::npos);
  EXPECT_NE(with("llama", ", \"hidden_act\": \"gelu\"").find("field 'hidden_act'"), std::string::npos);
  EXPECT_NE(with("llama", ", \"num_key_value_heads\": 3").find("does not divide"), std::string::npos);
  EXPECT_NE(with("llama", ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}").find("of type 'linear'"),
            std::string::npos);
  EXPECT_NE(with("llama", ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}").find("needs factor"),
            std::string::npos);
  // Mistral 7B v0.1's sliding window of 4096 in a 32768 context changes the attention.
  EXPECT_NE(refusal(R"({"model_type": "mistral", "vocab_size": 10, "hidden_size": 64, "intermediate_size": 100,
                        "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 32768,
                        "sliding_window": 4096})").find("field 'sliding_window' = 4096"),
            std::string::npos);
  EXPECT_NE(with("llama", ", \"head_dim\": 15").find("odd"), std::string::npos);
  EXPECT_NE(with("llama", ", \"rms_norm_eps\": -1").find("field 'rms_norm_eps' must be a positive number"),
            std::string::npos);
  EXPECT_NE(with("llama", ", \"tie_word_embeddings\": \"yes\"").find("field 'tie_word_embeddings'"), std::string::npos);
  EXPECT_NE(refusal(R"({"model_type": "llama", "hidden_size": 64})").find("field 'vocab_size' is missing"),
            std::string::npos);
  EXPECT_NE(refusal("[1, 2").find("config.json: not valid JSON"), std::string::npos);
}

TEST(SafetensorsIndex, MapsTensorsToShardsInTheSameFolder) {
  auto parse_index = [](const std::string& text) {
    return parse_safetensors_index(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), "index.json");
  };
  const auto m = parse_index(R"({"metadata": {"total_size": 123}, "weight_map": {
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "lm_head.weight": "model-00002-of-00002.safetensors"}})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("lm_head.weight"), "model-00002-of-00002.safetensors");
  EXPECT_NE(error_of([&] { parse_index(R"({"weight_map": {"a": "../etc/passwd"}})"); }).find("is not a file name"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_index(R"({"weight_map": {}})"); }).find("weight_map is empty"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_index(R"({"weights": {}})"); }).find("index.json: expected an object"),
            std::string::npos);
}

// What a Llama checkpoint stores as its config (and `export` will write): read back, the same model.
TEST(HfLlamaConfig, WrittenConfigReadsBackAsTheSameModel) {
  for (const char* text : {kTinyLlama, kLlama31, kMistral, kQwen2}) {
    const HfLlamaConfig c = parse(text);
    const std::string written = hf_llama_config_json(c).dump();
    const HfLlamaConfig d = parse(written);
    EXPECT_EQ(d.model_type, c.model_type);
    EXPECT_EQ(d.vocab_size, c.vocab_size);
    EXPECT_EQ(d.hidden_size, c.hidden_size);
    EXPECT_EQ(d.intermediate_size, c.intermediate_size);
    EXPECT_EQ(d.num_hidden_layers, c.num_hidden_layers);
    EXPECT_EQ(d.num_attention_heads, c.num_attention_heads);
    EXPECT_EQ(d.num_key_value_heads, c.num_key_value_heads);
    EXPECT_EQ(d.head_dim, c.head_dim);
    EXPECT_EQ(d.max_position_embeddings, c.max_position_embeddings);
    EXPECT_EQ(d.rms_norm_eps, c.rms_norm_eps);
    EXPECT_EQ(d.rope_theta, c.rope_theta);
    EXPECT_EQ(d.rope_factor, c.rope_factor);
    EXPECT_EQ(d.rope_low_freq_factor, c.rope_low_freq_factor);
    EXPECT_EQ(d.rope_high_freq_factor, c.rope_high_freq_factor);
    EXPECT_EQ(d.rope_original_max_positions, c.rope_original_max_positions);
    EXPECT_EQ(d.attention_bias, c.attention_bias);
    EXPECT_EQ(d.qkv_bias_only, c.qkv_bias_only);
    EXPECT_EQ(d.mlp_bias, c.mlp_bias);
    EXPECT_EQ(d.tie_word_embeddings, c.tie_word_embeddings);
    EXPECT_EQ(d.bos_token_id, c.bos_token_id);
    EXPECT_EQ(d.eos_token_id, c.eos_token_id);
    EXPECT_EQ(hf_llama_config_json(d), hf_llama_config_json(c)) << written;
  }
  // The class transformers builds from it.
  EXPECT_EQ(hf_llama_config_json(parse(kQwen2))["architectures"][0], "Qwen2ForCausalLM");
  EXPECT_EQ(hf_llama_config_json(parse(kLlama31))["rope_scaling"]["rope_type"], "llama3");
}
