#include "interop/gpt_tensors.h"

#include <cstring>

#include "core/error.h"
#include "model/checkpoint.h"
#include "zoo/zoo.h"

namespace structlm::interop {

const char* const kLayerParams[12] = {"ln_1.weight",        "ln_1.bias",        "attn.c_attn.weight",
                                      "attn.c_attn.bias",   "attn.c_proj.weight", "attn.c_proj.bias",
                                      "ln_2.weight",        "ln_2.bias",        "mlp.c_fc.weight",
                                      "mlp.c_fc.bias",      "mlp.c_proj.weight", "mlp.c_proj.bias"};

FloatType parse_float_type(const std::string& s, const std::string& option) {
  if (s == "f32") return FloatType::F32;
  if (s == "f16") return FloatType::F16;
  if (s == "bf16") return FloatType::BF16;
  fail(option, "'" + s + "' is not a dtype (f32, f16 or bf16)");
}

const char* float_type_name(FloatType t) {
  switch (t) {
    case FloatType::F32: return "f32";
    case FloatType::F16: return "f16";
    case FloatType::BF16: return "bf16";
  }
  return "?";
}

formats::DType safetensors_dtype(FloatType t) {
  return t == FloatType::F32 ? formats::DType::F32 : t == FloatType::F16 ? formats::DType::F16 : formats::DType::BF16;
}

FloatType float_type_of(formats::GgmlType t) {
  switch (t) {
    case formats::GgmlType::F32: return FloatType::F32;
    case formats::GgmlType::F16: return FloatType::F16;
    case formats::GgmlType::BF16: return FloatType::BF16;
  }
  return FloatType::F32;
}

formats::GgmlType ggml_type_of(FloatType t) {
  switch (t) {
    case FloatType::F32: return formats::GgmlType::F32;
    case FloatType::F16: return formats::GgmlType::F16;
    case FloatType::BF16: return formats::GgmlType::BF16;
  }
  return formats::GgmlType::F32;
}

std::uint32_t gguf_file_type(FloatType t) {
  constexpr std::uint32_t kF32 = 0, kF16 = 1, kBF16 = 32;  // llama_ftype values
  return t == FloatType::F32 ? kF32 : t == FloatType::F16 ? kF16 : kBF16;
}

std::vector<std::uint64_t> gguf_ne(const torch::Tensor& x) {
  std::vector<std::uint64_t> ne;
  for (auto d = x.dim() - 1; d >= 0; --d) ne.push_back(static_cast<std::uint64_t>(x.size(d)));
  return ne;
}

torch::ScalarType torch_type(FloatType t) {
  switch (t) {
    case FloatType::F32: return torch::kFloat32;
    case FloatType::F16: return torch::kFloat16;
    case FloatType::BF16: return torch::kBFloat16;
  }
  return torch::kFloat32;
}

const torch::Tensor& GptTensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("internal: model tensor '" + name + "' missing");
  return it->second;
}

GptTensors tensors_of(model::GPT& net) {
  GptTensors m;
  m.config = net->config();
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters(/*recurse=*/true))
    m.tensors[item.key()] = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous().clone();
  return m;
}

model::GPT build_model(const GptTensors& m, const std::string& source) {
  model::GPT net = zoo::make_gpt(m.config);
  model::Checkpoint ck;
  ck.config = m.config;
  ck.tensors = m.tensors;
  model::load_weights(net, ck, source);
  net->eval();
  return net;
}

void save_as_checkpoint(const GptTensors& m, const std::string& path, const json& meta, const std::string& source) {
  model::GPT net = build_model(m, source);
  model::save_checkpoint(path, net, {}, meta);
}

void require_plain_gpt2(const model::GPTConfig& c, const std::string& format, const std::string& path,
                        bool untied_ok) {
  const std::string refuse = "cannot be exported to " + format + " exactly: ";
  if (!c.bias) fail(path, refuse + "the model has no biases (bias=false), and " + format + "'s GPT-2 always has them");
  if (!c.tied && !untied_ok)
    fail(path, refuse + "the output matrix is untied (tied=false), and " + format + " ties it to the token embedding");
  // Any field GPTConfig grows beyond plain GPT-2 (CSTDE dependency attention, ...) changes what
  // the model computes, and no GPT-2 reader would compute it: refuse when it is switched on.
  static const char* const kPlain[] = {"vocab_size", "block_size", "n_layer", "n_head",
                                       "n_embd",     "dropout",    "bias",    "tied"};
  const json j = c.to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool plain = false;
    for (const char* k : kPlain) plain = plain || it.key() == k;
    if (plain) continue;
    const json& v = it.value();
    const bool off = v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_number() && v.get<double>() == 0) ||
                     ((v.is_object() || v.is_array() || v.is_string()) && v.empty()) ||
                     (v.is_object() && v.contains("enabled") && v["enabled"] == false);
    if (!off) fail(path, refuse + "config field '" + it.key() + "' = " + v.dump() + " is not part of GPT-2");
  }
}

std::map<std::string, std::vector<std::int64_t>> parameter_shapes(const model::GPTConfig& c) {
  const std::int64_t C = c.n_embd;
  const std::vector<std::int64_t> layer[12] = {{C}, {C}, {3 * C, C}, {3 * C}, {C, C}, {C},
                                               {C}, {C}, {4 * C, C}, {4 * C}, {C, 4 * C}, {C}};
  std::map<std::string, std::vector<std::int64_t>> out = {
      {"wte.weight", {c.vocab_size, C}}, {"wpe.weight", {c.block_size, C}}, {"ln_f.weight", {C}}, {"ln_f.bias", {C}}};
  for (std::int64_t l = 0; l < c.n_layer; ++l)
    for (int k = 0; k < 12; ++k) out[layer_name(l, kLayerParams[k])] = layer[k];
  if (!c.tied) out["lm_head.weight"] = {c.vocab_size, C};
  return out;
}

std::string layer_name(std::int64_t layer, const std::string& suffix) {
  return "h." + std::to_string(layer) + "." + suffix;
}

torch::Tensor tensor_from_bytes(const std::uint8_t* data, FloatType t, const std::vector<std::int64_t>& shape) {
  torch::Tensor x = torch::empty(shape, torch::TensorOptions().dtype(torch_type(t)));
  std::memcpy(x.data_ptr(), data, x.numel() * x.element_size());
  return x.to(torch::kFloat32).contiguous();
}

std::string tensor_bytes(const torch::Tensor& x, FloatType t) {
  torch::Tensor c = x.detach().to(torch::kCPU, torch_type(t)).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

void check_shape(const torch::Tensor& x, const std::vector<std::int64_t>& want, const std::string& path,
                 const std::string& name) {
  if (x.sizes() != c10::IntArrayRef(want))
    fail(path, "tensor '" + name + "' has shape " + c10::str(x.sizes()) + ", expected " + c10::str(c10::IntArrayRef(want)));
}

}  // namespace structlm::interop
