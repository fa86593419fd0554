// structlm GPT <-> llm.c's model file (parameters stacked over layers, vocabulary padded) and
// tokenizer file (raw token bytes).
#include "core/error.h"
#include "core/io.h"
#include "formats/llmc.h"
#include "interop/convert.h"

namespace structlm::interop {

namespace {

// structlm's per-layer parameter behind each stacked llm.c tensor 2..13 (same order).
constexpr int kStackedFirst = 2, kStackedLast = 13;

std::int32_t int32_field(std::int64_t v, const std::string& path, const char* field) {
  if (v < 1 || v > 0x7fffffff) fail(path, std::string("cannot be written to llm.c: ") + field + " does not fit an int32");
  return static_cast<std::int32_t>(v);
}

}  // namespace

void export_llmc(const GptTensors& m, const text::Tokenizer* tok, const std::string& path,
                 const std::string& tokenizer_path, FloatType dtype) {
  const model::GPTConfig& c = m.config;
  require_plain_gpt2(c, "llm.c", path, /*untied_ok=*/false);
  if (dtype == FloatType::F16) fail(path, "llm.c model files hold f32 (version 3) or bf16 (version 5), not f16");
  formats::LlmcModelHeader h;
  h.version = dtype == FloatType::BF16 ? formats::kLlmcModelVersionBF16 : formats::kLlmcModelVersionF32;
  h.max_seq_len = int32_field(c.block_size, path, "block_size");
  h.vocab_size = int32_field(c.vocab_size, path, "vocab_size");
  h.num_layers = int32_field(c.n_layer, path, "n_layer");
  h.num_heads = int32_field(c.n_head, path, "n_head");
  h.channels = int32_field(c.n_embd, path, "n_embd");
  h.padded_vocab_size = int32_field((c.vocab_size + 127) / 128 * 128, path, "padded vocab_size");  // as llm.c pads

  std::vector<torch::Tensor> params;
  // Padding rows are zero, as llm.c's pad_vocab writes them.
  params.push_back(torch::cat({m.at("wte.weight"), torch::zeros({h.padded_vocab_size - c.vocab_size, c.n_embd})}));
  params.push_back(m.at("wpe.weight"));
  for (int k = 0; k <= kStackedLast - kStackedFirst; ++k) {
    std::vector<torch::Tensor> layers;
    for (std::int64_t l = 0; l < c.n_layer; ++l) layers.push_back(m.at(layer_name(l, kLayerParams[k])));
    params.push_back(torch::stack(layers));
  }
  params.push_back(m.at("ln_f.weight"));
  params.push_back(m.at("ln_f.bias"));
  const auto shapes = formats::llmc_param_shapes(h);
  for (int i = 0; i < formats::kLlmcParamTensors; ++i) check_shape(params[i], shapes[i], path, formats::llmc_param_name(i));

  write_file_atomic(path, [&](std::ostream& out) {
    out << formats::llmc_model_header_bytes(h);
    for (const auto& p : params) out << tensor_bytes(p, dtype);
  });

  if (!tokenizer_path.empty()) {
    if (!tok) fail(tokenizer_path, "no tokenizer known for this model; pass --tokenizer");
    formats::LlmcTokenizer t;
    t.eot = static_cast<std::int32_t>(tok->eot());
    for (std::size_t id = 0; id < tok->vocab_size(); ++id) t.tokens.push_back(tok->token_bytes(static_cast<text::TokenId>(id)));
    write_file_atomic(tokenizer_path, formats::llmc_tokenizer_bytes(t, tokenizer_path));
  }
}

Imported import_llmc(const std::string& path) {
  MappedFile file(path);
  const formats::LlmcModelHeader h = formats::parse_llmc_model(file.data(), file.size(), path);
  const FloatType t = h.bf16() ? FloatType::BF16 : FloatType::F32;
  const auto shapes = formats::llmc_param_shapes(h);
  const auto counts = formats::llmc_param_counts(h);
  std::vector<torch::Tensor> params;
  std::size_t offset = formats::kLlmcHeaderBytes;  // parse_llmc_model checked the file holds them all
  for (int i = 0; i < formats::kLlmcParamTensors; ++i) {
    params.push_back(tensor_from_bytes(file.data() + offset, t, shapes[i]));
    offset += counts[i] * h.bytes_per_param();
  }

  Imported out;
  model::GPTConfig& c = out.model.config;
  c.vocab_size = h.vocab_size;
  c.block_size = h.max_seq_len;
  c.n_layer = h.num_layers;
  c.n_head = h.num_heads;
  c.n_embd = h.channels;
  c.bias = true;
  c.tied = true;
  auto& ts = out.model.tensors;
  ts["wte.weight"] = params[0].slice(0, 0, h.vocab_size).contiguous();  // padding rows dropped
  ts["wpe.weight"] = params[1];
  for (int k = 0; k <= kStackedLast - kStackedFirst; ++k)
    for (std::int64_t l = 0; l < c.n_layer; ++l)
      ts[layer_name(l, kLayerParams[k])] = params[kStackedFirst + k][l].contiguous();
  ts["ln_f.weight"] = params[14];
  ts["ln_f.bias"] = params[15];
  return out;
}

void check_llmc_tokenizer(const std::string& llmc_tokenizer_path, const text::Tokenizer& tok) {
  MappedFile file(llmc_tokenizer_path);
  const formats::LlmcTokenizer t = formats::parse_llmc_tokenizer(file.data(), file.size(), llmc_tokenizer_path);
  if (t.tokens.size() != tok.vocab_size())
    fail(llmc_tokenizer_path, "has " + std::to_string(t.tokens.size()) + " tokens, the tokenizer given has " +
                                  std::to_string(tok.vocab_size()));
  for (std::size_t id = 0; id < t.tokens.size(); ++id)
    if (t.tokens[id] != tok.token_bytes(static_cast<text::TokenId>(id)))
      fail(llmc_tokenizer_path, "token " + std::to_string(id) + " differs from the tokenizer given");
  if (t.version == 2 && static_cast<std::size_t>(t.eot) != tok.eot())
    fail(llmc_tokenizer_path, "end-of-text id " + std::to_string(t.eot) + " differs from the tokenizer's " +
                                  std::to_string(tok.eot()));
}

}  // namespace structlm::interop
