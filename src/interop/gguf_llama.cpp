// GGUF files of llama.cpp's `llama` architecture (Llama, Mistral, TinyLlama, SmolLM as
// convert_hf_to_gguf.py writes them) and its `qwen2` architecture (Qwen2, Qwen2.5) into
// model::LlamaForCausalLM and back (issue 16). The names map as the converter's (token_embd,
// blk.N.attn_q, ..., output_norm, output), the dims are ggml's (innermost first). For `llama`
// the q/k rows are un-permuted: the converter regroups each head's rows from Hugging Face's
// rotate-half order (i with i + d/2) into llama.cpp's adjacent pairs (new row 2i = old row i,
// new row 2i+1 = old row i + d/2), so the inverse gives back HF's layout, which model/llama.h
// computes. `qwen2` uses NEOX rope, HF's own layout, and the converter's Qwen2Model permutes
// nothing. The embedded vocabulary becomes a tokenizer.json (gguf_vocab.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/gguf.h"
#include "formats/gguf_llama_config.h"
#include "interop/gguf_llama.h"
#include "interop/gguf_vocab.h"
#include "text/tokenizer.h"

namespace structlm::interop {

namespace {

// llama.cpp's GGUF names and Hugging Face's: the whole-model tensors, and a block's (after
// "blk.N." / "model.layers.N."; ".weight" or ".bias" follows).
const std::map<std::string, std::string> kFixed = {{"token_embd.weight", "model.embed_tokens.weight"},
                                                   {"output_norm.weight", "model.norm.weight"},
                                                   {"output.weight", "lm_head.weight"}};
const std::map<std::string, std::string> kLayer = {
    {"attn_norm", "input_layernorm"},         {"attn_q", "self_attn.q_proj"},  {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},           {"attn_output", "self_attn.o_proj"},
    {"ffn_norm", "post_attention_layernorm"}, {"ffn_gate", "mlp.gate_proj"},   {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"}};

// HF name of a GGUF tensor, or "" when the name is not one of a llama model's.
std::string hf_name(const std::string& g) {
  if (auto it = kFixed.find(g); it != kFixed.end()) return it->second;
  if (g.rfind("blk.", 0) != 0) return "";
  const auto dot = g.find('.', 4);
  if (dot == std::string::npos || dot == 4 || dot > 10) return "";
  for (std::size_t i = 4; i < dot; ++i)
    if (g[i] < '0' || g[i] > '9') return "";
  const auto last = g.rfind('.');
  if (last <= dot) return "";
  auto it = kLayer.find(g.substr(dot + 1, last - dot - 1));
  if (it == kLayer.end()) return "";
  return "model.layers." + g.substr(4, dot - 4) + "." + it->second + g.substr(last);
}

// The converter's permutation undone: rows [heads, d/2, 2, ...] -> [heads, 2, d/2, ...].
torch::Tensor unpermute_qk(const torch::Tensor& w, std::int64_t heads) {
  std::vector<std::int64_t> shape = {heads, w.size(0) / heads / 2, 2};
  for (std::int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
}

// GGUF name of a Hugging Face tensor of a llama model ("" for none): hf_name's inverse.
std::string gguf_name(const std::string& hf) {
  for (const auto& [g, h] : kFixed)
    if (h == hf) return g;
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) != 0) return "";
  const auto dot = hf.find('.', prefix.size());
  const auto last = hf.rfind('.');
  if (dot == std::string::npos || last <= dot) return "";
  const std::string inner = hf.substr(dot + 1, last - dot - 1);
  for (const auto& [g, h] : kLayer)
    if (h == inner) return "blk." + hf.substr(prefix.size(), dot - prefix.size()) + "." + g + hf.substr(last);
  return "";
}

// The converter's permutation: rows [heads, 2, d/2, ...] -> [heads, d/2, 2, ...] (unpermute_qk's inverse).
torch::Tensor permute_qk(const torch::Tensor& w, std::int64_t heads) {
  std::vector<std::int64_t> shape = {heads, 2, w.size(0) / heads / 2};
  for (std::int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
}

// Llama 3's rope scaling from rope_freqs.weight (llama3_rope_from_factors). The file's factors are
// F32 (6e-8 relative); the recovered rule must give every one of them within kRopeTolerance.
constexpr double kRopeTolerance = 1e-6;
const std::string kRopeFreqs = "tensor 'rope_freqs.weight': ";

bool near(double a, double b) { return std::abs(a - b) <= kRopeTolerance * std::abs(b); }

// x to 6 significant digits: 0.99999994 -> 1, 3.9999998 -> 4 (a value that rounding moves too far
// fails the check and the untidied one is taken).
double tidy(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return std::strtod(buf, nullptr);
}

// The largest relative difference between c's factors (unscaled over scaled frequencies, as
// export writes them) and `want`, and where.
std::pair<double, std::size_t> rope_factor_error(const model::LlamaConfig& c, const std::vector<double>& want) {
  model::LlamaConfig plain = c;
  plain.rope_factor = 0;
  const torch::Tensor got = (model::llama_inv_freq(plain) / model::llama_inv_freq(c)).contiguous();
  const double* g = got.data_ptr<double>();
  std::pair<double, std::size_t> worst{0.0, 0};
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double e = std::abs(g[i] - want[i]) / want[i];
    if (!(e <= worst.first)) worst = {e, i};  // NaN counts as the worst
  }
  return worst;
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace

model::LlamaConfig llama3_rope_from_factors(model::LlamaConfig c, const std::vector<double>& factors,
                                            const std::string& path) {
  const std::int64_t d = c.head_dim;
  if (d <= 0 || d % 2 != 0 || !(c.rope_theta > 0)) fail(path, std::string(kRopeFreqs) + "head size or rope theta unusable");
  const std::size_t n = std::size_t(d / 2);
  if (factors.size() != n)
    fail(path, kRopeFreqs + std::to_string(factors.size()) + " factors, but rotary positions on heads of " +
                   std::to_string(d) + " use " + std::to_string(n) + " frequencies");
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(factors[i]) || factors[i] <= 0)
      fail(path, kRopeFreqs + "factor " + std::to_string(i) + " is " + number(factors[i]) + ", not a positive number");
  c.rope_factor = c.rope_low_freq_factor = c.rope_high_freq_factor = 0;
  c.rope_original_max_positions = 0;
  const double F = *std::max_element(factors.begin(), factors.end());
  auto not_llama3 = [&](const std::string& why) {
    return kRopeFreqs + why + ": not Llama 3's rope scaling (rope_type llama3), the only one computed here";
  };
  if (F <= 1 + kRopeTolerance) {  // all 1: no scaling at all
    const auto [err, at] = rope_factor_error(c, factors);
    if (!(err <= kRopeTolerance)) fail(path, not_llama3("factor " + std::to_string(at) + " is " + number(factors[at]) + ", others 1"));
    return c;
  }

  // u(i) = 1 / wavelength of frequency i (also one past either end: i = -1, n), as llama_inv_freq.
  auto u = [&](std::int64_t i) { return 1.0 / std::pow(c.rope_theta, double(2 * i) / double(d)) / (2 * M_PI); };
  // Llama 3's rule in u: s = (L u - low) / (high - low) is linear in u, 0 at u_low = low / L and 1
  // at u_high = high / L; u > u_high: factor 1 (kept); u < u_low: F (divided); in between
  // 1 / f = (1 - s) / F + s. So each factor strictly between 1 and F gives s, and the points (u, s)
  // lie on one line.
  std::vector<std::size_t> smooth;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (factors[i] < 1 - kRopeTolerance)
      fail(path, not_llama3("factor " + std::to_string(i) + " is " + number(factors[i]) + " < 1: a frequency raised"));
    if (near(factors[i], 1)) ++kept;
    else if (!near(factors[i], F)) smooth.push_back(i);
  }
  auto s_of = [&](std::size_t i) { return (1 / factors[i] - 1 / F) / (1 - 1 / F); };
  // Candidate bands (u_low, u_high), best first.
  std::vector<std::pair<double, double>> bands;
  if (smooth.size() >= 2) {
    // The line through the outermost smooth points (the others lie between them).
    const std::size_t p = smooth.front(), q = smooth.back();
    const double a = (s_of(p) - s_of(q)) / (u(std::int64_t(p)) - u(std::int64_t(q)));
    if (!(a > 0)) fail(path, not_llama3("the factors between 1 and " + number(F) + " do not fall as the frequency falls"));
    bands.emplace_back(u(std::int64_t(p)) - s_of(p) / a, u(std::int64_t(p)) + (1 - s_of(p)) / a);
  } else if (smooth.size() == 1) {
    // One point fixes one relation: u_j = u_low + s_j (u_high - u_low). First the ratio
    // high / low = 4 of every released Llama 3.x; else the widest band that keeps its neighbours
    // out, halved.
    const auto j = std::int64_t(smooth[0]);
    const double s = s_of(smooth[0]), uj = u(j);
    bands.emplace_back(uj / (1 + 3 * s), 4 * uj / (1 + 3 * s));
    const double width = 0.5 * std::min((uj - u(j + 1)) / s, (u(j - 1) - uj) / (1 - s));
    bands.emplace_back(uj - s * width, uj + (1 - s) * width);
  } else {
    // No point in the band: it lies between the last kept frequency and the first divided one
    // (or past the first frequency when none is kept). First the ratio 4 centred (geometrically) in
    // that gap, else its middle third.
    const auto k = std::int64_t(kept);
    const double hi = u(k - 1), lo = u(k);
    bands.emplace_back(std::sqrt(hi * lo / 4), std::sqrt(hi * lo * 4));
    bands.emplace_back(lo + (hi - lo) / 3, hi - (hi - lo) / 3);
  }
  // Each band as a config: L = round(1 / u_low) (low near 1), low = L u_low, high = L u_high;
  // tidied (6 significant digits) first, then as computed.
  std::pair<double, std::size_t> best{INFINITY, 0};
  model::LlamaConfig best_c = c;
  for (const auto& [ulow, uhigh] : bands) {
    if (!(ulow > 0) || !(uhigh > ulow) || !(1 / ulow < 2147483647.0)) continue;
    model::LlamaConfig r = c;
    r.rope_original_max_positions = std::max<std::int64_t>(1, std::llround(1 / ulow));
    const double L = double(r.rope_original_max_positions);
    for (bool tidied : {true, false}) {
      r.rope_factor = tidied ? tidy(F) : F;
      r.rope_low_freq_factor = tidied ? tidy(L * ulow) : L * ulow;
      r.rope_high_freq_factor = tidied ? tidy(L * uhigh) : L * uhigh;
      if (!(r.rope_high_freq_factor > r.rope_low_freq_factor) || !(r.rope_factor > 1)) continue;
      const auto e = rope_factor_error(r, factors);
      if (e.first <= kRopeTolerance) return r;
      if (!(e.first >= best.first)) best = e, best_c = r;
    }
  }
  if (!std::isfinite(best.first)) fail(path, not_llama3("no band of frequencies fits"));
  fail(path, not_llama3("factor " + std::to_string(best.second) + " is " + number(factors[best.second]) +
         ", but the closest Llama 3 rule (factor " + number(best_c.rope_factor) + ", low_freq_factor " +
         number(best_c.rope_low_freq_factor) + ", high_freq_factor " + number(best_c.rope_high_freq_factor) +
         ", original_max_position_embeddings " + std::to_string(best_c.rope_original_max_positions) + ") is off by " +
         number(best.first) + " relative"));
}

void export_gguf_llama(model::LlamaForCausalLM& model, const std::string& tokenizer_dir, const std::string& path,
                       FloatType dtype, const std::string& name) {
  const model::LlamaConfig& c = model->config();
  // Qwen2 is its own GGUF architecture (convert_hf_to_gguf.py's Qwen2Model): keys under "qwen2.",
  // q/k/v biases, NEOX rope (HF's rotate-half layout, so no q/k permutation), and neither
  // vocab_size nor rope.dimension_count. llama.cpp's qwen2 graph has no o or MLP biases and no
  // rope_freqs, so such a model is refused rather than written into a file that drops them.
  const bool qwen2 = c.model_type == "qwen2";
  if (qwen2 && (c.mlp_bias || c.rope_factor > 0 || !c.attention_bias || !c.qkv_bias_only))
    fail(path, "a Qwen2 model with " + std::string(c.mlp_bias ? "MLP biases" : c.rope_factor > 0 ? "Llama 3 rope scaling"
                                                                                               : "other than q/k/v biases") +
                   " has no GGUF form: llama.cpp's qwen2 architecture does not compute it");
  const std::int64_t V = c.vocab_size;

  // Metadata in the order convert_hf_to_gguf.py writes it for a llama (qwen2) model.
  const std::string L = qwen2 ? "qwen2" : "llama";
  formats::GgufWriter w;
  w.add_string("general.architecture", L);
  w.add_string("general.name", name);
  w.add_u32(L + ".block_count", std::uint32_t(c.num_hidden_layers));
  w.add_u32(L + ".context_length", std::uint32_t(c.max_position_embeddings));
  w.add_u32(L + ".embedding_length", std::uint32_t(c.hidden_size));
  w.add_u32(L + ".feed_forward_length", std::uint32_t(c.intermediate_size));
  w.add_u32(L + ".attention.head_count", std::uint32_t(c.num_attention_heads));
  w.add_u32(L + ".attention.head_count_kv", std::uint32_t(c.num_key_value_heads));
  w.add_f32(L + ".rope.freq_base", float(c.rope_theta));
  w.add_f32(L + ".attention.layer_norm_rms_epsilon", float(c.rms_norm_eps));
  const std::int64_t head_dim = c.head_dim > 0 ? c.head_dim : c.hidden_size / c.num_attention_heads;
  // Needed only when the head size is not embedding_length / head_count (the converter also
  // writes them whenever config.json names head_dim; llama.cpp reads both files alike).
  if (head_dim * c.num_attention_heads != c.hidden_size) {
    w.add_u32(L + ".attention.key_length", std::uint32_t(head_dim));
    w.add_u32(L + ".attention.value_length", std::uint32_t(head_dim));
  }
  w.add_u32("general.file_type", gguf_file_type(dtype));
  if (!qwen2) {  // LlamaModel's own keys
    w.add_u32(L + ".vocab_size", std::uint32_t(V));
    w.add_u32(L + ".rope.dimension_count", std::uint32_t(head_dim));
  }
  add_gguf_vocab(w, tokenizer_dir, V, c.bos_token_id, c.eos_token_id, path);
  w.add_u32("general.quantization_version", 2);

  torch::NoGradGuard no_grad;
  // Llama 3's rope scaling travels as a tensor, first as the converter writes it: per frequency
  // the divisor llama.cpp applies, theta^(-2i/d) / rope_freqs[i], i.e. the unscaled frequencies
  // over the scaled ones the model uses (model::llama_inv_freq), in float64, stored as F32.
  if (c.rope_factor > 0) {
    model::LlamaConfig plain = c;
    plain.rope_factor = 0;
    const torch::Tensor factors = (model::llama_inv_freq(plain) / model::llama_inv_freq(c)).to(torch::kFloat32);
    const std::string bytes = tensor_bytes(factors, FloatType::F32);
    w.add_tensor("rope_freqs.weight", ggml_type_of(FloatType::F32), gguf_ne(factors), bytes.data(), bytes.size());
  }
  for (const auto& item : model->named_parameters()) {
    const std::string g = gguf_name(item.key());
    if (g.empty()) fail(path, "tensor '" + item.key() + "' has no llama GGUF name");
    torch::Tensor x = item.value().detach().to(torch::kCPU);
    if (!qwen2 && item.key().find(".self_attn.q_proj.") != std::string::npos) x = permute_qk(x, c.num_attention_heads);
    if (!qwen2 && item.key().find(".self_attn.k_proj.") != std::string::npos) x = permute_qk(x, c.num_key_value_heads);
    const FloatType t = x.dim() == 1 ? FloatType::F32 : dtype;  // as the converter: norms and biases stay f32
    const std::string bytes = tensor_bytes(x, t);
    w.add_tensor(g, ggml_type_of(t), gguf_ne(x), bytes.data(), bytes.size());
  }
  w.write(path);
}

std::string gguf_architecture(const std::string& path) {
  MappedFile file(path);
  return formats::parse_gguf(file.data(), file.size(), path).get_string("general.architecture");
}

ImportedLlama import_gguf_llama(const std::string& path, const std::string& tokenizer_dir) {
  MappedFile file(path);
  const formats::GgufFile f = formats::parse_gguf(file.data(), file.size(), path);
  formats::HfLlamaConfig c = formats::llama_config_from_gguf(f);
  const std::string arch = c.model_type;
  const bool qwen2 = arch == "qwen2";
  // Llama 3's rope scaling: the converter's per-frequency divisors, F32 [head size / 2], back to
  // the four numbers of config.json (llama3_rope_from_factors).
  if (const auto* rf = f.find_tensor("rope_freqs.weight")) {
    const auto half = std::uint64_t(c.head_dim / 2);
    if (rf->type != formats::GgmlType::F32 || rf->ne.size() != 1 || rf->ne[0] != half) {
      std::string ne;
      for (auto x : rf->ne) ne += (ne.empty() ? "" : ", ") + std::to_string(x);
      fail(path, "tensor 'rope_freqs.weight' is " + std::string(formats::ggml_type_name(rf->type)) + " of ne (" + ne +
                     "); expected F32 of ne (" + std::to_string(half) + "), a factor per frequency of the head");
    }
    const torch::Tensor x =
        tensor_from_bytes(file.data() + f.data_offset + rf->offset, FloatType::F32, {std::int64_t(half)}).to(torch::kFloat64);
    const std::vector<double> factors(x.data_ptr<double>(), x.data_ptr<double>() + half);
    c = llama3_rope_from_factors(c, factors, path);
  }
  ImportedLlama out;
  out.model = model::LlamaForCausalLM(c);
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> params;
  for (auto& item : out.model->named_parameters()) params[item.key()] = item.value();
  std::map<std::string, bool> loaded;
  for (const auto& t : f.tensors) {
    if (t.name == "rope_freqs.weight") continue;  // read above, into the config
    const std::string ours = hf_name(t.name);
    auto p = params.find(ours);
    if (ours.empty() || p == params.end())
      fail(path, "tensor '" + t.name + "' is not part of a " + arch + " model of this file's metadata");
    std::vector<std::int64_t> shape;
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it) shape.push_back(std::int64_t(*it));
    if (shape != p->second.sizes().vec())
      fail(path, "tensor '" + t.name + "' has shape " + c10::str(c10::IntArrayRef(shape)) + ", the metadata implies " +
                     c10::str(p->second.sizes()));
    torch::Tensor x = tensor_from_bytes(file.data() + f.data_offset + t.offset, float_type_of(t.type), shape);
    if (!qwen2 && ours.find(".self_attn.q_proj.") != std::string::npos) x = unpermute_qk(x, c.num_attention_heads);
    if (!qwen2 && ours.find(".self_attn.k_proj.") != std::string::npos) x = unpermute_qk(x, c.num_key_value_heads);
    p->second.copy_(x);
    loaded[ours] = true;
  }
  for (const auto& [name, t] : params)
    if (!loaded.count(name)) fail(path, "tensor for '" + name + "' is missing");
  out.model->eval();

  if (tokenizer_dir.empty()) return out;
  try {
    const json tok = gguf_vocab_tokenizer_json(f, c.vocab_size);
    std::filesystem::create_directories(tokenizer_dir);
    const std::string file_path = tokenizer_dir + "/tokenizer.json";
    write_file_atomic(file_path, tok.dump());
    try {
      text::Tokenizer::load_hf(file_path);  // the reader's own checks: ids, merges, byte alphabet
    } catch (...) {
      std::filesystem::remove(file_path);
      throw;
    }
    out.wrote_tokenizer = true;
  } catch (const Error& e) {
    out.tokenizer_problem = e.what();
  }
  return out;
}

}  // namespace structlm::interop
