#include "model/checkpoint.h"

#include <cstring>

#include "core/error.h"
#include "formats/safetensors.h"

namespace structlm::model {

// safetensors stores little-endian bytes; torch's CPU tensors are in host order. Every machine this
// project targets (x86-64, aarch64) is little-endian, so the bytes are copied as they are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoint I/O assumes a little-endian host");

namespace {

formats::DType to_file_dtype(torch::ScalarType t, const std::string& path, const std::string& name) {
  switch (t) {
    case torch::kFloat64: return formats::DType::F64;
    case torch::kFloat32: return formats::DType::F32;
    case torch::kFloat16: return formats::DType::F16;
    case torch::kBFloat16: return formats::DType::BF16;
    case torch::kInt64: return formats::DType::I64;
    case torch::kInt32: return formats::DType::I32;
    case torch::kInt16: return formats::DType::I16;
    case torch::kInt8: return formats::DType::I8;
    case torch::kUInt8: return formats::DType::U8;
    case torch::kBool: return formats::DType::BOOL;
    default: fail(path, "tensor '" + name + "': dtype " + std::string(c10::toString(t)) + " has no safetensors equivalent");
  }
}

torch::ScalarType to_torch_dtype(formats::DType d) {
  switch (d) {
    case formats::DType::F64: return torch::kFloat64;
    case formats::DType::F32: return torch::kFloat32;
    case formats::DType::F16: return torch::kFloat16;
    case formats::DType::BF16: return torch::kBFloat16;
    case formats::DType::I64: return torch::kInt64;
    case formats::DType::I32: return torch::kInt32;
    case formats::DType::I16: return torch::kInt16;
    case formats::DType::I8: return torch::kInt8;
    case formats::DType::U8: return torch::kUInt8;
    case formats::DType::BOOL: return torch::kBool;
  }
  return torch::kFloat32;  // unreachable: the switch covers every DType
}

void add_tensor(formats::SafetensorsWriter& w, const std::string& path, const std::string& name,
                const torch::Tensor& t) {
  if (!t.defined()) fail(path, "tensor '" + name + "' is undefined, cannot be saved");
  // Detached, on the CPU, dense and contiguous: the bytes the file holds, exactly.
  torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  std::vector<std::int64_t> shape(c.sizes().begin(), c.sizes().end());
  w.add(name, to_file_dtype(c.scalar_type(), path, name), shape, c.data_ptr(), c.numel() * c.element_size());
}

// Every tensor the model owns, by its module path: parameters (frozen ones included, e.g. the
// zero LayerNorm biases of a bias-free model) and buffers.
std::vector<std::pair<std::string, torch::Tensor>> model_tensors(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& item : m.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (auto& item : m.named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, GPT& model, const std::map<std::string, torch::Tensor>& extra,
                     const json& meta) {
  if (!meta.is_null() && !meta.is_object()) fail(path, "checkpoint metadata must be a JSON object");
  json m = meta.is_null() ? json::object() : meta;
  m["config"] = model->config().to_json();  // what zoo::load_model builds from
  save_module_checkpoint(path, *model, extra, m);
}

void save_checkpoint(const std::string& path, LlamaForCausalLM& model, const json& meta) {
  save_checkpoint(path, model, {}, meta);
}

void save_checkpoint(const std::string& path, LlamaForCausalLM& model, const std::map<std::string, torch::Tensor>& extra,
                     const json& meta) {
  if (!meta.is_null() && !meta.is_object()) fail(path, "checkpoint metadata must be a JSON object");
  json m = meta.is_null() ? json::object() : meta;
  m["arch"] = "llama";
  m["config"] = formats::hf_llama_config_json(model->config());
  // CSTDE's attention is no part of HF's config: its section goes beside it (zoo::load_any_model).
  if (model->cstde_config().attention) m["cstde"] = model->cstde_config().to_json();
  save_module_checkpoint(path, *model, extra, m);
}

void save_module_checkpoint(const std::string& path, torch::nn::Module& model,
                            const std::map<std::string, torch::Tensor>& extra, const json& meta) {
  if (!meta.is_object() || !meta.contains("config")) fail(path, "checkpoint metadata must be a JSON object with a 'config'");
  formats::SafetensorsWriter w;
  std::map<std::string, bool> seen;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    if (seen.count(name)) fail(path, "tensor '" + name + "' would be written twice");
    seen[name] = true;
    add_tensor(w, path, name, t);
  };
  for (auto& [name, t] : model_tensors(model)) add(name, t);
  for (auto& [name, t] : extra) add(name, t);

  // Metadata values are JSON text, so numbers, objects and strings all come back as they went in.
  for (auto it = meta.begin(); it != meta.end(); ++it) w.set_metadata(it.key(), it.value().dump());
  w.write(path);
}

Checkpoint read_checkpoint(const std::string& path) {
  Checkpoint ck = read_any_checkpoint(path);
  if (ck.arch != "gpt")
    fail(path, "holds a " + ck.arch + " model (metadata 'arch'); this command reads GPT checkpoints only");
  return ck;
}

Checkpoint read_any_checkpoint(const std::string& path) {
  formats::SafetensorsReader r(path);  // validates header, offsets and sizes; errors name the file
  Checkpoint ck;
  for (const auto& [key, value] : r.metadata()) {
    try {
      ck.meta[key] = json::parse(value);
    } catch (const json::exception&) {  // parse_error, or out_of_range for "1e400"
      ck.meta[key] = value;  // written by another tool as a plain string
    }
  }
  if (!ck.meta.contains("config") || !ck.meta["config"].is_object())
    fail(path, "metadata has no model 'config' (not a structlm checkpoint?)");
  if (ck.meta.contains("arch")) {
    if (!ck.meta["arch"].is_string() || (ck.meta["arch"] != "gpt" && ck.meta["arch"] != "llama"))
      fail(path, "metadata 'arch' = " + ck.meta["arch"].dump() + ": expected \"gpt\" or \"llama\"");
    ck.arch = ck.meta["arch"].get<std::string>();
  }
  if (ck.arch == "gpt") ck.config = GPTConfig::from_json(ck.meta["config"], path + " (metadata 'config')");

  for (const auto& info : r.tensors()) {
    const auto dtype = to_torch_dtype(info.dtype);
    torch::Tensor t = torch::empty(info.shape, torch::TensorOptions().dtype(dtype));
    const std::size_t want = std::size_t(t.numel()) * t.element_size();
    if (want != info.nbytes())
      fail(path, "tensor '" + info.name + "': " + std::to_string(info.nbytes()) + " bytes for " +
                     std::to_string(want) + " expected from its shape");
    if (want) std::memcpy(t.data_ptr(), r.data(info), want);  // the map closes with the reader
    ck.tensors[info.name] = t;
  }
  return ck;
}

void load_weights(GPT& model, const Checkpoint& ckpt, const std::string& source) {
  load_module_weights(*model, ckpt, source);
}

void load_module_weights(torch::nn::Module& model, const Checkpoint& ckpt, const std::string& source) {
  torch::NoGradGuard no_grad;
  const std::string& where = source;
  std::map<std::string, bool> model_names;
  for (auto& [name, dst] : model_tensors(model)) {
    model_names[name] = true;
    auto it = ckpt.tensors.find(name);
    if (it == ckpt.tensors.end()) fail(where, "tensor '" + name + "' is missing (the model needs it)");
    const torch::Tensor& src = it->second;
    if (src.sizes() != dst.sizes())
      fail(where, "tensor '" + name + "' has shape " + c10::str(src.sizes()) + ", the model expects " +
                      c10::str(dst.sizes()));
    if (!src.is_floating_point() && dst.is_floating_point())
      fail(where, "tensor '" + name + "' is " + std::string(c10::toString(src.scalar_type())) +
                      ", the model expects a float tensor");
    dst.copy_(src);  // converts dtype and device; exact when both are float32
  }
  // Tensors under the model's own module names that the model lacks mean a different shape of
  // model (untied vs tied, more layers); other names (e.g. "optim.*") are extras, left alone.
  std::map<std::string, bool> roots;
  for (auto& item : model.named_children()) roots[item.key()] = true;
  roots["lm_head"] = true;
  for (const auto& [name, t] : ckpt.tensors) {
    std::string root = name.substr(0, name.find('.'));
    if (roots.count(root) && !model_names.count(name))
      fail(where, "tensor '" + name + "' is not part of this model (config mismatch?)");
  }
}

}  // namespace structlm::model
