// What cannot be converted exactly is refused with a message naming the file and the reason,
// and damaged or inconsistent model files are errors naming the file and the tensor or key.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "formats/safetensors.h"
#include "interop/convert.h"
#include "interop_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::interop;
using namespace structlm::interop::testing;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

void expect_error(const std::function<void()>& f, const std::string& file, const std::string& piece) {
  const std::string msg = error_of(f);
  EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(piece), std::string::npos) << msg;
}

// Overwrites bytes `at` bytes after the first occurrence of `key` in the file.
std::string patched(const std::string& bytes, const std::string& key, std::size_t at, const std::string& with) {
  const auto pos = bytes.find(key);
  EXPECT_NE(pos, std::string::npos) << key;
  std::string b = bytes;
  b.replace(pos + key.size() + at, with.size(), with);
  return b;
}

template <typename T>
std::string le(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(&s[0], &v, sizeof(T));
  return s;
}

}  // namespace

TEST(Refusal, BiasFreeModelsInEveryFormat) {
  TempDir tmp;
  const auto tok = small_tokenizer();
  const GptTensors m = random_model(tiny(tok.vocab_size(), true, /*bias=*/false), 1);
  expect_error([&] { export_gguf(m, tok, tmp / "m.gguf", FloatType::F32, "x"); }, tmp / "m.gguf", "bias=false");
  expect_error([&] { export_llmc(m, &tok, tmp / "m.bin", "", FloatType::F32); }, tmp / "m.bin", "bias=false");
  expect_error([&] { export_hf(m, &tok, tmp / "m.safetensors", FloatType::F32); }, tmp / "m.safetensors",
               "bias=false");
  EXPECT_FALSE(file_exists(tmp / "m.gguf") || file_exists(tmp / "m.bin") || file_exists(tmp / "m.safetensors"));
}

TEST(Refusal, UntiedModelsInLlmc) {
  TempDir tmp;
  const GptTensors m = random_model(tiny(300, /*tied=*/false), 1);
  expect_error([&] { export_llmc(m, nullptr, tmp / "m.bin", "", FloatType::F32); }, tmp / "m.bin", "untied");
  expect_error([&] { export_llmc(random_model(tiny(300), 1), nullptr, tmp / "m.bin", "", FloatType::F16); },
               tmp / "m.bin", "not f16");
}

TEST(Refusal, ConfigFieldsBeyondGpt2) {
  TempDir tmp;
  const auto tok = small_tokenizer();
  GptTensors m = random_model(tiny(tok.vocab_size()), 1);
  m.config.cstde.attention = true;  // CSTDE dependency attention: no GPT-2 reader computes it
  expect_error([&] { export_gguf(m, tok, tmp / "m.gguf", FloatType::F32, "x"); }, tmp / "m.gguf", "'cstde'");
  expect_error([&] { export_llmc(m, &tok, tmp / "m.bin", "", FloatType::F32); }, tmp / "m.bin", "'cstde'");
  expect_error([&] { export_hf(m, &tok, tmp / "m.safetensors", FloatType::F32); }, tmp / "m.safetensors", "'cstde'");
  m.config.cstde.attention = false;
  m.config.cstde.init = true;  // only an initialisation, but still a CSTDE model: refused, never dropped
  expect_error([&] { export_gguf(m, tok, tmp / "m.gguf", FloatType::F32, "x"); }, tmp / "m.gguf", "'cstde'");
}

TEST(Refusal, GgufModelFilesThatAreNotThisGpt2) {
  TempDir tmp;
  const auto tok = small_tokenizer();
  export_gguf(random_model(tiny(tok.vocab_size()), 1), tok, tmp / "ok.gguf", FloatType::F32, "x");
  const std::string good = read_file(tmp / "ok.gguf");
  const std::string f = tmp / "bad.gguf";
  const struct {
    std::string bytes;
    const char* expect;
  } cases[] = {
      {patched(good, "general.architecture", 4 + 8, "gptj"), "'general.architecture': 'gptj'"},
      {patched(good, "gpt2.block_count", 4, le<std::uint32_t>(1u << 30)), "'gpt2.block_count'"},
      {patched(good, "gpt2.block_count", 4, le<std::uint32_t>(3)), "3 layers, but the file has only 28 tensors"},
      {patched(good, "gpt2.embedding_length", 4, le<std::uint32_t>(32)), "4 x n_embd = 128"},
      {patched(good, "gpt2.context_length", 4, le<std::uint32_t>(17)), "position_embd.weight"},
      {patched(good, "gpt2.feed_forward_length", 4, le<std::uint32_t>(17)), "feed_forward_length"},
      {patched(good, "gpt2.attention.head_count", 4, le<std::uint32_t>(3)), "head_count"},
      {patched(good, "layer_norm_epsilon", 4, le<float>(1e-6f)), "layer_norm_epsilon"},
      {patched(good, "tokenizer.ggml.model", 4 + 8, "llam"), "'tokenizer.ggml.model'"},
      {patched(good, "blk.1.ffn_up.", 0, "X"), "'blk.1.ffn_up.weight' is missing"},
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    write_file_atomic(f, cases[i].bytes);
    expect_error([&] { import_gguf(f, tmp / "tok"); }, f, cases[i].expect);
  }
  write_file_atomic(f, good.substr(0, good.size() - 100));
  expect_error([&] { import_gguf(f, ""); }, f, "runs past the end");
}

TEST(Refusal, HuggingFaceFilesThatAreNotThisGpt2) {
  TempDir tmp;
  const auto tok = small_tokenizer();
  export_hf(random_model(tiny(tok.vocab_size()), 1), &tok, tmp / "model.safetensors", FloatType::F32);
  formats::SafetensorsReader r(tmp / "model.safetensors");
  // Rewrites the file with one tensor changed (or dropped, or one added).
  auto rewrite = [&](const std::string& drop, const std::string& add, formats::DType dtype,
                     std::vector<std::int64_t> shape) {
    formats::SafetensorsWriter w;
    for (const auto& t : r.tensors())
      if (t.name != drop) w.add(t.name, t.dtype, t.shape, r.data(t), t.nbytes());
    if (!add.empty()) {
      std::vector<std::uint8_t> zeros(1024 * 1024, 0);
      std::uint64_t n = formats::dtype_size(dtype);
      for (auto d : shape) n *= d;
      w.add(add, dtype, shape, zeros.data(), n);
    }
    w.write(tmp / "bad/model.safetensors");
    write_file_atomic(tmp / "bad/config.json", read_file(tmp / "config.json"));
    return tmp / "bad/model.safetensors";
  };
  make_dirs(tmp / "bad");
  using formats::DType;
  const std::string f = tmp / "bad/model.safetensors";
  rewrite("transformer.h.1.mlp.c_fc.bias", "", DType::F32, {});
  expect_error([&] { import_hf(f, 0, ""); }, f, "'transformer.h.1.mlp.c_fc.bias' is missing");
  rewrite("transformer.h.1.mlp.c_fc.bias", "transformer.h.1.mlp.c_fc.bias", DType::F32, {63});
  expect_error([&] { import_hf(f, 0, ""); }, f, "has shape [63]");
  rewrite("transformer.h.1.mlp.c_fc.bias", "transformer.h.1.mlp.c_fc.bias", DType::I32, {64});
  expect_error([&] { import_hf(f, 0, ""); }, f, "dtype I32");
  rewrite("transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_fc.weight", DType::F32, {64, 16});
  expect_error([&] { import_hf(f, 0, ""); }, f, "expected [16, 64]");  // Conv1D layout is [in, out]
  rewrite("", "transformer.h.1.attn.rotary", DType::F32, {4});
  expect_error([&] { import_hf(f, 0, ""); }, f, "'transformer.h.1.attn.rotary' is not part of");
  rewrite("", "lm_head.weight", DType::F32, {static_cast<std::int64_t>(tok.vocab_size()), 16});
  expect_error([&] { import_hf(f, 0, ""); }, f, "differs from 'transformer.wte.weight'");
  rewrite("", "", DType::F32, {});
  std::string config = read_file(tmp / "config.json");
  config.replace(config.find("gelu_new"), 8, "relu");
  write_file_atomic(tmp / "bad/config.json", config);
  expect_error([&] { import_hf(f, 0, ""); }, tmp / "bad/config.json", "'activation_function'");
}
