// structlm GPT <-> GGUF for llama.cpp's gpt2 architecture. Tensor bytes are the same row-major
// data in both; only the dims are listed innermost first (torch [out, in] is ggml ne = (in, out)).
#include <cmath>

#include "core/error.h"
#include "core/io.h"
#include "formats/gguf.h"
#include "interop/convert.h"
#include "interop/tokenizer_files.h"

namespace structlm::interop {

namespace {

using formats::GgmlType;

// structlm name -> GGUF name, for every tensor of a tied model (output.weight added when untied).
std::vector<std::pair<std::string, std::string>> gguf_names(std::int64_t n_layer) {
  static const char* const kBlock[12] = {"attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias",
                                         "attn_output.weight", "attn_output.bias", "ffn_norm.weight", "ffn_norm.bias",
                                         "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"};
  std::vector<std::pair<std::string, std::string>> out = {{"wte.weight", "token_embd.weight"},
                                                          {"wpe.weight", "position_embd.weight"}};
  for (std::int64_t l = 0; l < n_layer; ++l)
    for (int k = 0; k < 12; ++k)
      out.emplace_back(layer_name(l, kLayerParams[k]), "blk." + std::to_string(l) + "." + kBlock[k]);
  out.emplace_back("ln_f.weight", "output_norm.weight");
  out.emplace_back("ln_f.bias", "output_norm.bias");
  return out;
}



}  // namespace

void export_gguf(const GptTensors& m, const text::Tokenizer& tok, const std::string& path, FloatType dtype,
                 const std::string& model_name) {
  const model::GPTConfig& c = m.config;
  require_plain_gpt2(c, "GGUF", path, /*untied_ok=*/true);
  const std::int64_t V = c.vocab_size;
  if (static_cast<std::int64_t>(tok.vocab_size()) > V)
    fail(path, "the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model only " +
                   std::to_string(V) + " rows: wrong tokenizer?");

  formats::GgufWriter w;
  w.add_string("general.architecture", "gpt2");
  w.add_string("general.name", model_name);
  w.add_u32("gpt2.context_length", static_cast<std::uint32_t>(c.block_size));
  w.add_u32("gpt2.embedding_length", static_cast<std::uint32_t>(c.n_embd));
  w.add_u32("gpt2.feed_forward_length", static_cast<std::uint32_t>(4 * c.n_embd));
  w.add_u32("gpt2.block_count", static_cast<std::uint32_t>(c.n_layer));
  w.add_u32("gpt2.attention.head_count", static_cast<std::uint32_t>(c.n_head));
  w.add_f32("gpt2.attention.layer_norm_epsilon", 1e-5f);
  w.add_u32("general.file_type", gguf_file_type(dtype));

  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  for (std::int64_t id = 0; id < V; ++id) {
    if (id < static_cast<std::int64_t>(tok.vocab_size())) {
      tokens.push_back(tok.token_string(static_cast<text::TokenId>(id)));
      types.push_back(id == tok.eot() ? kGgufTokenControl : kGgufTokenNormal);
    } else {
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      types.push_back(kGgufTokenUnused);
    }
  }
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");  // GPT-2's pre-tokenizer regex
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merge_strings(tok));
  w.add_u32("tokenizer.ggml.bos_token_id", tok.eot());
  w.add_u32("tokenizer.ggml.eos_token_id", tok.eot());

  auto names = gguf_names(c.n_layer);
  if (!c.tied) names.emplace_back("lm_head.weight", "output.weight");
  for (const auto& [ours, theirs] : names) {
    const torch::Tensor& x = m.at(ours);
    // As llama.cpp's converter: 1-D tensors (norms, biases) and the position table stay f32.
    const bool keep_f32 = x.dim() == 1 || theirs == "position_embd.weight";
    const FloatType t = keep_f32 ? FloatType::F32 : dtype;
    const std::string bytes = tensor_bytes(x, t);
    w.add_tensor(theirs, ggml_type_of(t), gguf_ne(x), bytes.data(), bytes.size());
  }
  w.write(path);
}

Imported import_gguf(const std::string& path, const std::string& tokenizer_dir) {
  MappedFile file(path);
  const formats::GgufFile f = formats::parse_gguf(file.data(), file.size(), path);
  const std::string arch = f.get_string("general.architecture");
  if (arch != "gpt2")
    fail(path, "metadata key 'general.architecture': '" + arch + "' is not supported (only gpt2)");

  Imported out;
  model::GPTConfig& c = out.model.config;
  c.n_layer = gguf_hparam(f, "gpt2.block_count");
  c.n_embd = gguf_hparam(f, "gpt2.embedding_length");
  c.n_head = gguf_hparam(f, "gpt2.attention.head_count");
  c.block_size = gguf_hparam(f, "gpt2.context_length");
  if (c.n_embd % c.n_head != 0)
    fail(path, "metadata key 'gpt2.attention.head_count': " + std::to_string(c.n_head) + " does not divide n_embd " +
                   std::to_string(c.n_embd));
  if (gguf_hparam(f, "gpt2.feed_forward_length") != 4 * c.n_embd)
    fail(path, "metadata key 'gpt2.feed_forward_length': structlm's MLP is 4 x n_embd = " + std::to_string(4 * c.n_embd));
  const double eps = f.get_float("gpt2.attention.layer_norm_epsilon");
  if (std::fabs(eps - 1e-5) > 1e-9)
    fail(path, "metadata key 'gpt2.attention.layer_norm_epsilon': " + std::to_string(eps) +
                   " cannot be represented (structlm's LayerNorm uses 1e-5)");

  const formats::GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) fail(path, "tensor 'token_embd.weight' is missing");
  if (embd->ne.size() != 2 || embd->ne[0] != static_cast<std::uint64_t>(c.n_embd) || embd->ne[1] > 0x7fffffff)
    fail(path, "tensor 'token_embd.weight': expected ne (n_embd, n_vocab)");
  c.vocab_size = static_cast<std::int64_t>(embd->ne[1]);
  c.bias = true;
  c.tied = f.find_tensor("output.weight") == nullptr;

  // Every tensor of the file must be one the model has: nothing is silently dropped. The layer
  // count is bounded by the tensors present before any per-layer list is built, and every shape
  // is checked against the config before any data is converted.
  if (static_cast<std::uint64_t>(c.n_layer) > f.tensors.size() / 12)
    fail(path, "metadata key 'gpt2.block_count': " + std::to_string(c.n_layer) + " layers, but the file has only " +
                   std::to_string(f.tensors.size()) + " tensors");
  auto names = gguf_names(c.n_layer);
  if (!c.tied) names.emplace_back("lm_head.weight", "output.weight");
  std::map<std::string, const formats::GgufTensorInfo*> by_name;
  for (const auto& t : f.tensors) by_name[t.name] = &t;
  for (const auto& n : names)
    if (!by_name.count(n.second)) fail(path, "tensor '" + n.second + "' is missing");
  if (by_name.size() != names.size())
    for (const auto& t : f.tensors) {
      bool known = false;
      for (const auto& n : names) known = known || n.second == t.name;
      if (!known) fail(path, "tensor '" + t.name + "' is not part of a GPT-2 model of this shape");
    }
  const auto want = parameter_shapes(c);
  for (const auto& [ours, theirs] : names) {
    const formats::GgufTensorInfo* t = by_name.at(theirs);
    std::vector<std::int64_t> shape;
    for (auto it = t->ne.rbegin(); it != t->ne.rend(); ++it) shape.push_back(static_cast<std::int64_t>(*it));
    if (shape != want.at(ours))
      fail(path, "tensor '" + theirs + "' has shape " + c10::str(c10::IntArrayRef(shape)) + ", the config implies " +
                     c10::str(c10::IntArrayRef(want.at(ours))));
  }
  for (const auto& [ours, theirs] : names) {
    const formats::GgufTensorInfo* t = by_name.at(theirs);
    const auto& shape = want.at(ours);
    out.model.tensors[ours] = tensor_from_bytes(file.data() + f.data_offset + t->offset, float_type_of(t->type), shape);
  }
  // A file that stores the tied output matrix anyway (older llama.cpp converters did) is tied.
  if (!c.tied && torch::equal(out.model.tensors["lm_head.weight"], out.model.tensors["wte.weight"])) {
    c.tied = true;
    out.model.tensors.erase("lm_head.weight");
  }

  const std::string tok_model = f.get_string("tokenizer.ggml.model");
  if (tok_model != "gpt2")
    fail(path, "metadata key 'tokenizer.ggml.model': '" + tok_model + "' is not a GPT-2 byte-level BPE");
  std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (static_cast<std::int64_t>(tokens.size()) != c.vocab_size)
    fail(path, "metadata key 'tokenizer.ggml.tokens': " + std::to_string(tokens.size()) + " tokens for " +
                   std::to_string(c.vocab_size) + " embedding rows");
  if (f.find("tokenizer.ggml.token_type")) {
    const auto& types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      fail(path, "metadata key 'tokenizer.ggml.token_type': " + std::to_string(types.size()) + " entries for " +
                     std::to_string(tokens.size()) + " tokens");
    // Padding rows (UNUSED at the end) are model rows, not tokenizer tokens.
    while (!tokens.empty() && types[tokens.size() - 1] == kGgufTokenUnused) tokens.pop_back();
  }
  const std::vector<std::string> merges =
      f.find("tokenizer.ggml.merges") ? f.get_string_array("tokenizer.ggml.merges") : std::vector<std::string>{};
  if (!tokenizer_dir.empty()) {
    write_gpt2_tokenizer(tokenizer_dir, tokens, merges, path);
    out.wrote_tokenizer = true;
  }
  return out;
}

}  // namespace structlm::interop
