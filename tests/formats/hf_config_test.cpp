// Hugging Face GPT-2 config.json: the real GPT-2 small config is read, what structlm's GPT cannot
// compute is refused by field, and hostile JSON is an error naming the file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "formats/hf_config.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::formats;
using structlm::test_util::error_of;

namespace {

HfGpt2Config parse(const std::string& s) {
  return parse_hf_gpt2_config(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), "config.json");
}

// openai-community/gpt2's config.json, the fields that matter (as published).
const char* kGpt2Small = R"({"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
  "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
  "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024,
  "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1,
  "summary_activation": null, "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 50257})";

std::string with(const std::string& field, const std::string& value) {
  std::string s = kGpt2Small;
  return s.substr(0, s.size() - 1) + ", \"" + field + "\": " + value + "}";
}

}  // namespace

TEST(HfConfig, ReadsGpt2Small) {
  const HfGpt2Config c = parse(kGpt2Small);
  EXPECT_EQ(c.vocab_size, 50257);
  EXPECT_EQ(c.n_positions, 1024);
  EXPECT_EQ(c.n_embd, 768);
  EXPECT_EQ(c.n_layer, 12);
  EXPECT_EQ(c.n_head, 12);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(parse(R"({"vocab_size": 5, "n_ctx": 8, "n_embd": 4, "n_layer": 1, "n_head": 2})").n_positions, 8);
}

TEST(HfConfig, WrittenConfigReadsBack) {
  HfGpt2Config c;
  c.vocab_size = 300;
  c.n_positions = 64;
  c.n_embd = 32;
  c.n_layer = 3;
  c.n_head = 4;
  c.tie_word_embeddings = false;
  c.eos_token_id = 299;
  const std::string text = hf_gpt2_config_json(c);
  const HfGpt2Config back = parse(text);
  EXPECT_EQ(back.vocab_size, 300);
  EXPECT_EQ(back.n_positions, 64);
  EXPECT_EQ(back.n_head, 4);
  EXPECT_FALSE(back.tie_word_embeddings);
  EXPECT_NE(text.find("\"eos_token_id\": 299"), std::string::npos);
  EXPECT_NE(text.find("\"GPT2LMHeadModel\""), std::string::npos);
}

TEST(HfConfig, RefusesWhatStructlmCannotComputeAndBadInput) {
  const std::pair<std::string, const char*> cases[] = {
      {with("activation_function", "\"relu\""), "'activation_function'"},
      {std::string(kGpt2Small).replace(std::string(kGpt2Small).find("1e-05"), 5, "1e-06"), "'layer_norm_epsilon'"},
      {with("n_inner", "1024"), "'n_inner'"},
      {with("scale_attn_by_inverse_layer_idx", "true"), "'scale_attn_by_inverse_layer_idx'"},
      {with("scale_attn_weights", "false"), "'scale_attn_weights'"},
      {with("tie_word_embeddings", "1"), "'tie_word_embeddings'"},
      {std::string(kGpt2Small).replace(std::string(kGpt2Small).find("\"gpt2\""), 6, "\"llama\""), "'model_type'"},
      {R"({"vocab_size": 5, "n_ctx": 8, "n_embd": 4, "n_layer": 1})", "'n_head' is missing"},
      {R"({"vocab_size": 5, "n_ctx": 8, "n_embd": 4, "n_layer": 1, "n_head": 3})", "not divisible"},
      {R"({"vocab_size": 5, "n_ctx": 8, "n_embd": 4, "n_layer": 4294967296, "n_head": 2})", "'n_layer'"},
      {R"({"vocab_size": "5", "n_ctx": 8, "n_embd": 4, "n_layer": 1, "n_head": 2})", "'vocab_size' must be an integer"},
      {"[1, 2]", "JSON object"},
      {"{\"a\": ", "not valid JSON"},
      {std::string(100000, '[') + std::string(100000, ']'), "nested"},
  };
  for (const auto& [text, expect] : cases) {
    const std::string msg = error_of([&] { parse(text); });
    EXPECT_EQ(msg.rfind("config.json: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << msg;
  }
}
