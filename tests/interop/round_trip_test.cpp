// export then import gives back the model: same logits (bit-identical for f32, within half
// precision's rounding for f16/bf16) and, where the format carries one, the same tokenizer.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/io.h"
#include "interop/convert.h"
#include "interop_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::interop;
using namespace structlm::interop::testing;
using structlm::test_util::TempDir;

namespace {

void expect_same_tokenizer(const text::Tokenizer& a, const text::Tokenizer& b) {
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (std::size_t i = 0; i < a.vocab_size(); ++i)
    ASSERT_EQ(a.token_string(text::TokenId(i)), b.token_string(text::TokenId(i))) << i;
  EXPECT_EQ(a.merges(), b.merges());
  EXPECT_EQ(a.eot(), b.eot());
  const std::string text = "the lazy fox, 123 forest!";
  EXPECT_EQ(a.encode(text), b.encode(text));
}

// f32 must be exact; half types are compared to the model, within their rounding.
void expect_logits(const GptTensors& before, const GptTensors& after, FloatType t) {
  EXPECT_EQ(after.config.to_json(), before.config.to_json());
  const auto idx = tokens(before.config.vocab_size);
  const auto a = logits(before, idx), b = logits(after, idx);
  if (t == FloatType::F32) {
    EXPECT_TRUE(torch::equal(a, b)) << "max diff " << (a - b).abs().max().item<double>();
  } else {
    const double r = rel_diff(a, b);
    EXPECT_LT(r, t == FloatType::F16 ? 5e-3 : 2e-2) << float_type_name(t);
    EXPECT_GT(r, 0.0) << "half precision should round something";
  }
}

}  // namespace

TEST(RoundTrip, GgufEveryDtypeTiedAndUntiedWithItsTokenizer) {
  TempDir tmp;
  const text::Tokenizer tok = small_tokenizer();
  for (bool tied : {true, false})
    for (FloatType t : {FloatType::F32, FloatType::F16, FloatType::BF16}) {
      SCOPED_TRACE(std::string(float_type_name(t)) + (tied ? " tied" : " untied"));
      const GptTensors m = random_model(tiny(tok.vocab_size(), tied), 1);
      export_gguf(m, tok, tmp / "m.gguf", t, "tiny");
      const Imported back = import_gguf(tmp / "m.gguf", tmp / "tok");
      EXPECT_TRUE(back.wrote_tokenizer);
      expect_logits(m, back.model, t);
      expect_same_tokenizer(tok, text::Tokenizer::load(tmp / "tok"));
    }
}

TEST(RoundTrip, GgufPadsAModelWiderThanItsTokenizer) {
  TempDir tmp;
  const text::Tokenizer tok = small_tokenizer();
  const GptTensors m = random_model(tiny(tok.vocab_size() + 5), 2);
  export_gguf(m, tok, tmp / "m.gguf", FloatType::F32, "tiny");
  const Imported back = import_gguf(tmp / "m.gguf", tmp / "tok");
  expect_logits(m, back.model, FloatType::F32);
  expect_same_tokenizer(tok, text::Tokenizer::load(tmp / "tok"));  // the [PADn] rows are not tokens
}

TEST(RoundTrip, GgufCarriesGpt2sOwnTokenizer) {
  TempDir tmp;
  const auto gpt2 = text::Tokenizer::load_gpt2(gpt2_dir() + "/encoder.json", gpt2_dir() + "/vocab.bpe");
  model::GPTConfig c = tiny(50257);
  c.n_layer = 1;
  c.n_embd = 8;
  const GptTensors m = random_model(c, 3);
  export_gguf(m, gpt2, tmp / "m.gguf", FloatType::F16, "gpt2-tiny");
  const Imported back = import_gguf(tmp / "m.gguf", tmp / "tok");
  expect_logits(m, back.model, FloatType::F16);
  const auto tok = text::Tokenizer::load(tmp / "tok");
  expect_same_tokenizer(gpt2, tok);
  EXPECT_EQ(tok.eot(), 50256u);
  // The files are GPT-2's own, byte for byte in content: same token -> id map, same merges.
  EXPECT_EQ(load_json(tmp / "tok/encoder.json"), load_json(gpt2_dir() + "/encoder.json"));
}

TEST(RoundTrip, LlmcF32AndBf16WithTokenizerFile) {
  TempDir tmp;
  const text::Tokenizer tok = small_tokenizer();
  for (FloatType t : {FloatType::F32, FloatType::BF16}) {
    SCOPED_TRACE(float_type_name(t));
    const GptTensors m = random_model(tiny(tok.vocab_size()), 4);
    export_llmc(m, &tok, tmp / "m.bin", tmp / "tok.bin", t);
    // Vocabulary padded to a multiple of 128, with zero rows (llm.c's pad_vocab).
    EXPECT_EQ(file_size(tmp / "m.bin"), 1024 + (384 * 16 + 16 * 16 + 2 * (12 * 16 * 16 + 13 * 16) + 32) *
                                                     (t == FloatType::F32 ? 4u : 2u));
    const Imported back = import_llmc(tmp / "m.bin");
    expect_logits(m, back.model, t);
    EXPECT_NO_THROW(check_llmc_tokenizer(tmp / "tok.bin", tok));
  }
  EXPECT_NE(test_util::error_of([&] {
              check_llmc_tokenizer(tmp / "tok.bin", small_tokenizer(290));
            }).find("tok.bin: has 300 tokens"),
            std::string::npos);
}

TEST(RoundTrip, HuggingFaceEveryDtypeTiedAndUntied) {
  TempDir tmp;
  const text::Tokenizer tok = small_tokenizer();
  for (bool tied : {true, false})
    for (FloatType t : {FloatType::F32, FloatType::F16, FloatType::BF16}) {
      SCOPED_TRACE(std::string(float_type_name(t)) + (tied ? " tied" : " untied"));
      const GptTensors m = random_model(tiny(tok.vocab_size(), tied), 5);
      export_hf(m, &tok, tmp / "model.safetensors", t);
      const Imported back = import_hf(tmp / "model.safetensors", 0, tmp / "tok");  // heads from config.json
      EXPECT_TRUE(back.wrote_tokenizer);
      expect_logits(m, back.model, t);
      expect_same_tokenizer(tok, text::Tokenizer::load(tmp / "tok"));
    }
}
