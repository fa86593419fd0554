// GGUF files of llama.cpp's `llama` architecture (Llama, Mistral, TinyLlama, SmolLM as
// convert_hf_to_gguf.py writes them) into model::LlamaForCausalLM (issue 16). The names map as
// the converter's (token_embd, blk.N.attn_q, ..., output_norm, output), the dims are ggml's
// (innermost first), and the q/k rows are un-permuted: the converter regroups each head's rows
// from Hugging Face's rotate-half order (i with i + d/2) into llama.cpp's adjacent pairs
// (new row 2i = old row i, new row 2i+1 = old row i + d/2), so the inverse gives back HF's
// layout, which model/llama.h computes. The embedded tokenizer (tokenizer.ggml.model "gpt2")
// becomes a tokenizer.json with the pre-tokenizer that `tokenizer.ggml.pre` names.
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
#include "interop/gguf_llama.h"
#include "text/tokenizer.h"

namespace structlm::interop {

namespace {

constexpr std::int64_t kTokenNormal = kGgufTokenNormal, kTokenControl = kGgufTokenControl,
                       kTokenUserDefined = kGgufTokenUserDefined, kTokenUnused = kGgufTokenUnused;

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

// The pre-tokenizer regex of llama.cpp's `tokenizer.ggml.pre` names this reader knows.
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// tokenizer.json for the file's GPT-2-style vocabulary; throws Error when it cannot be written.
json tokenizer_json_of(const formats::GgufFile& f, std::int64_t rows) {
  const std::string& model = f.get_string("tokenizer.ggml.model");
  if (model != "gpt2")
    fail(f.name, "metadata key 'tokenizer.ggml.model' is '" + model +
                     "': only byte-level BPE ('gpt2') is read; SentencePiece ('llama') is not implemented yet");
  const auto& tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (std::int64_t(tokens.size()) > rows)
    fail(f.name, "metadata key 'tokenizer.ggml.tokens': " + std::to_string(tokens.size()) + " tokens for " +
                     std::to_string(rows) + " embedding rows");
  std::vector<std::int64_t> types(tokens.size(), kTokenNormal);
  if (f.find("tokenizer.ggml.token_type")) {
    types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      fail(f.name, "metadata key 'tokenizer.ggml.token_type': " + std::to_string(types.size()) + " entries for " +
                       std::to_string(tokens.size()) + " tokens");
  }
  std::size_t n = tokens.size();
  while (n > 0 && types[n - 1] == kTokenUnused) --n;  // padding rows are model rows, not tokens
  json vocab = json::object(), added = json::array();
  for (std::size_t id = 0; id < n; ++id) {
    if (types[id] == kTokenControl || types[id] == kTokenUserDefined || types[id] == kTokenUnused)
      added.push_back({{"id", id}, {"content", tokens[id]}, {"special", true}, {"normalized", false}});
    else
      vocab[tokens[id]] = id;
  }
  json merges = f.find("tokenizer.ggml.merges") ? json(f.get_string_array("tokenizer.ggml.merges")) : json::array();
  const std::string pre = f.find("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  json pre_tokenizer;
  bool ignore_merges = false;
  if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
    pre_tokenizer = byte_level;
  } else if (pre == "llama-bpe" || pre == "llama3") {
    json split = {{"type", "Split"}, {"pattern", {{"Regex", kLlama3Regex}}}, {"behavior", "Isolated"}, {"invert", false}};
    byte_level["use_regex"] = false;
    pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}};
    ignore_merges = true;  // as llama.cpp's llama-bpe vocabulary (and Llama 3's tokenizer.json)
  } else {
    fail(f.name, "metadata key 'tokenizer.ggml.pre' is '" + pre + "': its pre-tokenizer is not known to this reader");
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"ignore_merges", ignore_merges},
            {"vocab", vocab}, {"merges", merges}}}};
}

// llama.cpp's name for the pre-tokenizer of a byte-level BPE tokenizer.json, or why there is none.
std::string gguf_pre_of(const json& tj, const std::string& path) {
  const json& m = tj.value("model", json::object());
  if (m.value("type", std::string()) != "BPE" || m.value("byte_fallback", false))
    fail(path, "a SentencePiece-style vocabulary (byte fallback): its GGUF form is not written yet; "
               "convert the Hugging Face folder with llama.cpp's convert_hf_to_gguf.py");
  if (tj.contains("normalizer") && !tj["normalizer"].is_null())
    fail(path, "field 'normalizer': a GGUF vocabulary has no normaliser; not exported");
  const json& pre = tj.value("pre_tokenizer", json());
  if (pre.is_object() && pre.value("type", std::string()) == "ByteLevel" && pre.value("use_regex", true)) return "gpt-2";
  if (pre.is_object() && pre.value("type", std::string()) == "Sequence" && pre.contains("pretokenizers") &&
      pre["pretokenizers"].is_array() && pre["pretokenizers"].size() == 2) {
    const json& split = pre["pretokenizers"][0];
    if (split.value("type", std::string()) == "Split" && split.contains("pattern") &&
        split["pattern"].value("Regex", std::string()) == kLlama3Regex)
      return "llama-bpe";
  }
  fail(path, "field 'pre_tokenizer': not GPT-2's or Llama 3's, so llama.cpp has no name for it; not exported");
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
  if (c.model_type == "qwen2")
    fail(path, "a Qwen2 model is GGUF architecture 'qwen2', which is not written yet; export the Hugging Face folder");
  if (tokenizer_dir.empty()) fail(path, "a GGUF file carries its vocabulary: the model's tokenizer directory is needed");
  const text::Tokenizer tok = text::Tokenizer::load(tokenizer_dir);
  const std::int64_t V = c.vocab_size;
  if (std::int64_t(tok.vocab_size()) > V)
    fail(path, "the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model only " +
                   std::to_string(V) + " rows: wrong tokenizer?");

  // The vocabulary: tokenizer.json where the directory has one (its added tokens are control
  // tokens), else GPT-2's files (the end-of-text token is the control token).
  const std::string tj_path = tokenizer_dir + "/tokenizer.json";
  const bool has_json = !file_exists(tokenizer_dir + "/encoder.json") && file_exists(tj_path);
  std::string pre = "gpt-2";
  std::vector<std::int32_t> types(std::size_t(V), kGgufTokenNormal);
  if (has_json) {
    const json tj = load_json(tj_path);
    pre = gguf_pre_of(tj, tj_path);
    for (const auto& a : tj.value("added_tokens", json::array()))
      if (a.value("id", -1) >= 0 && a.value("id", -1) < V) types[std::size_t(a["id"].get<std::int64_t>())] = kGgufTokenControl;
  } else {
    types[std::size_t(tok.eot())] = kGgufTokenControl;
  }
  std::vector<std::string> tokens;
  for (std::int64_t id = 0; id < V; ++id) {
    if (id < std::int64_t(tok.vocab_size())) {
      tokens.push_back(tok.token_string(text::TokenId(id)));
    } else {
      tokens.push_back("[PAD" + std::to_string(id) + "]");  // rows past the vocabulary, as the converter pads
      types[std::size_t(id)] = kGgufTokenUnused;
    }
  }
  std::vector<std::string> merges;
  for (const auto& [a, b] : tok.merges()) merges.push_back(a + " " + b);

  // Metadata in the order convert_hf_to_gguf.py writes it for a llama model.
  const std::string L = "llama";
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
  w.add_u32(L + ".vocab_size", std::uint32_t(V));
  w.add_u32(L + ".rope.dimension_count", std::uint32_t(head_dim));
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", pre);
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merges);
  w.add_u32("tokenizer.ggml.bos_token_id", std::uint32_t(c.bos_token_id >= 0 ? c.bos_token_id : tok.eot()));
  w.add_u32("tokenizer.ggml.eos_token_id", std::uint32_t(c.eos_token_id >= 0 ? c.eos_token_id : tok.eot()));
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
    if (item.key().find(".self_attn.q_proj.") != std::string::npos) x = permute_qk(x, c.num_attention_heads);
    if (item.key().find(".self_attn.k_proj.") != std::string::npos) x = permute_qk(x, c.num_key_value_heads);
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
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama") fail(path, "metadata key 'general.architecture': '" + arch + "' is not 'llama'");

  formats::HfLlamaConfig c;
  c.model_type = "llama";
  c.num_hidden_layers = gguf_hparam(f, "llama.block_count");
  c.max_position_embeddings = gguf_hparam(f, "llama.context_length");
  c.hidden_size = gguf_hparam(f, "llama.embedding_length");
  c.intermediate_size = gguf_hparam(f, "llama.feed_forward_length");
  c.num_attention_heads = gguf_hparam(f, "llama.attention.head_count");
  c.num_key_value_heads =
      f.find("llama.attention.head_count_kv") ? gguf_hparam(f, "llama.attention.head_count_kv") : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(path, "metadata key 'llama.attention.head_count_kv': " + std::to_string(c.num_key_value_heads) +
                   " does not divide the head count " + std::to_string(c.num_attention_heads));
  c.head_dim = f.find("llama.attention.key_length") ? gguf_hparam(f, "llama.attention.key_length")
                                                    : c.hidden_size / c.num_attention_heads;
  if (f.find("llama.attention.value_length") && gguf_hparam(f, "llama.attention.value_length") != c.head_dim)
    fail(path, "metadata key 'llama.attention.value_length' differs from key_length: not a Llama block");
  if (!f.find("llama.attention.key_length") && c.hidden_size % c.num_attention_heads != 0)
    fail(path, "metadata key 'llama.attention.head_count' does not divide embedding_length and no key_length is given");
  if (c.head_dim % 2 != 0) fail(path, "head size " + std::to_string(c.head_dim) + " is odd: rotary positions rotate pairs");
  if (f.find("llama.rope.dimension_count") && gguf_hparam(f, "llama.rope.dimension_count") != c.head_dim)
    fail(path, "metadata key 'llama.rope.dimension_count': rotary positions on part of a head are not implemented");
  c.rope_theta = f.find("llama.rope.freq_base") ? f.get_float("llama.rope.freq_base") : 10000.0;
  c.rms_norm_eps = f.get_float("llama.attention.layer_norm_rms_epsilon");
  if (!(c.rope_theta > 0) || !(c.rms_norm_eps > 0)) fail(path, "rope.freq_base and layer_norm_rms_epsilon must be > 0");
  if (f.find("llama.rope.scaling.type") && f.get_string("llama.rope.scaling.type") != "none")
    fail(path, "metadata key 'llama.rope.scaling.type' = '" + f.get_string("llama.rope.scaling.type") +
                   "': rope scaling from GGUF is not implemented yet");
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
  if (f.find_tensor("token_embd.weight") == nullptr) fail(path, "tensor 'token_embd.weight' is missing");
  const auto& embd = *f.find_tensor("token_embd.weight");
  if (embd.ne.size() != 2 || embd.ne[0] != std::uint64_t(c.hidden_size) || embd.ne[1] > 0x7fffffff)
    fail(path, "tensor 'token_embd.weight': expected ne (embedding_length, n_vocab)");
  c.vocab_size = std::int64_t(embd.ne[1]);
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  if (f.find("tokenizer.ggml.bos_token_id")) c.bos_token_id = std::int64_t(f.get_uint("tokenizer.ggml.bos_token_id"));
  if (f.find("tokenizer.ggml.eos_token_id")) c.eos_token_id = std::int64_t(f.get_uint("tokenizer.ggml.eos_token_id"));
  // Biases: llama.cpp's llama graph adds them when present (attention_bias / mlp_bias models).
  c.attention_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.mlp_bias = f.find_tensor("blk.0.ffn_gate.bias") != nullptr;
  // Bounded by the tensors present before any model is built: 9 tensors per layer at least.
  if (std::uint64_t(c.num_hidden_layers) > f.tensors.size() / 9)
    fail(path, "metadata key 'llama.block_count': " + std::to_string(c.num_hidden_layers) +
                   " layers, but the file has only " + std::to_string(f.tensors.size()) + " tensors");

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
      fail(path, "tensor '" + t.name + "' is not part of a llama model of this file's metadata");
    std::vector<std::int64_t> shape;
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it) shape.push_back(std::int64_t(*it));
    if (shape != p->second.sizes().vec())
      fail(path, "tensor '" + t.name + "' has shape " + c10::str(c10::IntArrayRef(shape)) + ", the metadata implies " +
                     c10::str(p->second.sizes()));
    torch::Tensor x = tensor_from_bytes(file.data() + f.data_offset + t.offset, float_type_of(t.type), shape);
    if (ours.find(".self_attn.q_proj.") != std::string::npos) x = unpermute_qk(x, c.num_attention_heads);
    if (ours.find(".self_attn.k_proj.") != std::string::npos) x = unpermute_qk(x, c.num_key_value_heads);
    p->second.copy_(x);
    loaded[ours] = true;
  }
  for (const auto& [name, t] : params)
    if (!loaded.count(name)) fail(path, "tensor for '" + name + "' is missing");
  out.model->eval();

  if (tokenizer_dir.empty()) return out;
  try {
    const json tok = tokenizer_json_of(f, c.vocab_size);
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
