// structlm GPT <-> Hugging Face GPT-2 safetensors. The names are structlm's own behind a
// "transformer." prefix (lm_head.weight without it); HF's Conv1D stores the four projection
// matrices as [in, out], the transpose of torch's Linear.
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "interop/convert.h"
#include "interop/tokenizer_files.h"

namespace structlm::interop {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// HF GPT-2's Conv1D weights: the four projections of each block.
bool is_conv1d(const std::string& ours) {
  return ours.rfind("h.", 0) == 0 && ends_with(ours, ".weight") &&
         (ends_with(ours, "attn.c_attn.weight") || ends_with(ours, "attn.c_proj.weight") ||
          ends_with(ours, "mlp.c_fc.weight") || ends_with(ours, "mlp.c_proj.weight"));
}

std::string sibling(const std::string& path, const std::string& name) {
  return (std::filesystem::path(path).parent_path() / name).string();
}

// The layer index of "h.<N>.<rest>", or -1 (N is at most 6 digits: no model has a million layers).
std::int64_t layer_of(const std::string& ours) {
  if (ours.rfind("h.", 0) != 0) return -1;
  const auto dot = ours.find('.', 2);
  if (dot == std::string::npos || dot == 2 || dot > 8) return -1;
  std::int64_t n = 0;
  for (std::size_t i = 2; i < dot; ++i) {
    if (ours[i] < '0' || ours[i] > '9') return -1;
    n = n * 10 + (ours[i] - '0');
  }
  return n;
}

}  // namespace

void export_hf(const GptTensors& m, const text::Tokenizer* tok, const std::string& path, FloatType dtype) {
  const model::GPTConfig& c = m.config;
  require_plain_gpt2(c, "Hugging Face GPT-2", path, /*untied_ok=*/true);
  formats::SafetensorsWriter w;
  w.set_metadata("format", "pt");  // what transformers writes and checks
  for (const auto& [ours, x] : m.tensors) {
    const std::string theirs = ours == "lm_head.weight" ? ours : "transformer." + ours;
    const torch::Tensor y = is_conv1d(ours) ? x.t().contiguous() : x;
    const std::string bytes = tensor_bytes(y, dtype);
    w.add(theirs, safetensors_dtype(dtype), y.sizes().vec(), bytes.data(), bytes.size());
  }
  w.write(path);

  formats::HfGpt2Config hc;
  hc.vocab_size = c.vocab_size;
  hc.n_positions = c.block_size;
  hc.n_embd = c.n_embd;
  hc.n_layer = c.n_layer;
  hc.n_head = c.n_head;
  hc.tie_word_embeddings = c.tied;
  if (tok) hc.eos_token_id = tok->eot();
  write_file_atomic(sibling(path, "config.json"), formats::hf_gpt2_config_json(hc));
  if (tok) {
    write_file_atomic(sibling(path, "vocab.json"), encoder_json_text(token_strings(*tok), path));
    write_file_atomic(sibling(path, "merges.txt"), vocab_bpe_text(merge_strings(*tok), path));
  }
}

Imported import_hf(const std::string& path, std::int64_t n_head, const std::string& tokenizer_dir) {
  formats::SafetensorsReader r(path);
  // Names as structlm's; HF's attention-mask buffers are not weights and are skipped.
  std::map<std::string, const formats::TensorInfo*> by_name;
  std::int64_t n_layer = 0;
  for (const auto& t : r.tensors()) {
    if (ends_with(t.name, ".attn.bias") || ends_with(t.name, ".attn.masked_bias")) continue;
    std::string ours = t.name.rfind("transformer.", 0) == 0 ? t.name.substr(12) : t.name;
    if (by_name.count(ours)) fail(path, "tensor '" + t.name + "' appears twice (with and without 'transformer.')");
    if (t.dtype != formats::DType::F32 && t.dtype != formats::DType::F16 && t.dtype != formats::DType::BF16)
      fail(path, "tensor '" + t.name + "': dtype " + formats::dtype_name(t.dtype) + " is not F32, F16 or BF16");
    const std::int64_t l = layer_of(ours);
    if (l >= 0) n_layer = std::max(n_layer, l + 1);
    by_name[ours] = &t;
  }
  auto need = [&](const std::string& ours) -> const formats::TensorInfo& {
    auto it = by_name.find(ours);
    if (it == by_name.end()) fail(path, "tensor 'transformer." + ours + "' is missing");
    return *it->second;
  };
  const auto& wte = need("wte.weight");
  const auto& wpe = need("wpe.weight");
  if (wte.shape.size() != 2 || wpe.shape.size() != 2 || wte.shape[1] != wpe.shape[1])
    fail(path, "tensors 'wte.weight' and 'wpe.weight' must be [vocab, n_embd] and [positions, n_embd]");

  Imported out;
  model::GPTConfig& c = out.model.config;
  c.vocab_size = wte.shape[0];
  c.block_size = wpe.shape[0];
  c.n_embd = wte.shape[1];
  c.n_layer = n_layer;
  c.bias = true;
  if (c.n_layer < 1) fail(path, "no transformer blocks (tensors 'transformer.h.N.*')");
  if (c.vocab_size < 1 || c.block_size < 1 || c.n_embd < 1) fail(path, "tensor 'wte.weight' or 'wpe.weight' is empty");

  const std::string config_path = sibling(path, "config.json");
  bool config_ties = true;
  if (file_exists(config_path)) {
    const std::string bytes = read_file(config_path);
    const auto hc = formats::parse_hf_gpt2_config(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                                  config_path);
    const std::pair<const char*, std::pair<std::int64_t, std::int64_t>> agree[] = {
        {"vocab_size", {hc.vocab_size, c.vocab_size}}, {"n_positions", {hc.n_positions, c.block_size}},
        {"n_embd", {hc.n_embd, c.n_embd}},             {"n_layer", {hc.n_layer, c.n_layer}}};
    for (const auto& [field, v] : agree)
      if (v.first != v.second)
        fail(config_path, std::string("field '") + field + "' = " + std::to_string(v.first) + " but " + path +
                              " holds " + std::to_string(v.second));
    n_head = hc.n_head;
    config_ties = hc.tie_word_embeddings;
  }
  if (n_head <= 0)
    fail(path, "the number of attention heads cannot be read from tensor shapes: put the model's config.json next to "
               "the file or pass --n-head");
  if (c.n_embd % n_head != 0)
    fail(path, "n_embd " + std::to_string(c.n_embd) + " is not divisible by n_head " + std::to_string(n_head));
  c.n_head = n_head;

  // Tied unless the file has a different output matrix and the config says it is untied (with a
  // tying config, transformers itself would use wte and ignore it: refuse that contradiction).
  c.tied = true;
  const bool has_head = by_name.count("lm_head.weight") > 0;
  if (has_head) {
    c.tied = false;  // shapes are checked below with the untied shape list
  }
  const auto want = parameter_shapes(c);
  for (const auto& [ours, info] : by_name)
    if (!want.count(ours)) fail(path, "tensor '" + info->name + "' is not part of a GPT-2 model of this shape");
  for (const auto& [ours, shape] : want) {
    const auto& info = need(ours);
    std::vector<std::int64_t> file_shape = shape;
    if (is_conv1d(ours)) std::swap(file_shape[0], file_shape[1]);
    if (info.shape != file_shape)
      fail(path, "tensor '" + info.name + "' has shape " + c10::str(c10::IntArrayRef(info.shape)) + ", expected " +
                     c10::str(c10::IntArrayRef(file_shape)));
    const FloatType t = info.dtype == formats::DType::F32 ? FloatType::F32
                        : info.dtype == formats::DType::F16 ? FloatType::F16
                                                            : FloatType::BF16;
    torch::Tensor x = tensor_from_bytes(r.data(info), t, file_shape);
    out.model.tensors[ours] = is_conv1d(ours) ? x.t().contiguous() : x;
  }
  if (has_head) {
    const bool same = torch::equal(out.model.tensors["lm_head.weight"], out.model.tensors["wte.weight"]);
    if (same) {
      c.tied = true;
      out.model.tensors.erase("lm_head.weight");
    } else if (config_ties) {
      fail(path, "tensor 'lm_head.weight' differs from 'transformer.wte.weight' but the model ties them "
                 "(config.json tie_word_embeddings, or no config.json)");
    }
  }

  const std::string vocab = sibling(path, "vocab.json"), merges = sibling(path, "merges.txt");
  if (!tokenizer_dir.empty() && file_exists(vocab) && file_exists(merges)) {
    text::Tokenizer tok = text::Tokenizer::load_gpt2(vocab, merges);
    tok.save(tokenizer_dir);
    out.wrote_tokenizer = true;
  }
  return out;
}

}  // namespace structlm::interop
