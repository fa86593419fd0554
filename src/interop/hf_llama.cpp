#include "interop/hf_llama.h"

#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "formats/hf_llama_config.h"
#include "formats/safetensors.h"
#include "interop/gpt_tensors.h"
#include "text/tokenizer.h"

namespace structlm::interop {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

FloatType float_type(formats::DType d, const std::string& path, const std::string& name) {
  if (d == formats::DType::F32) return FloatType::F32;
  if (d == formats::DType::F16) return FloatType::F16;
  if (d == formats::DType::BF16) return FloatType::BF16;
  fail(path, "tensor '" + name + "' is " + formats::dtype_name(d) + "; expected F32, F16 or BF16");
}

formats::HfLlamaConfig read_config(const std::string& path) {
  if (!file_exists(path)) fail(path, "missing: a Hugging Face model folder holds config.json");
  const std::string text = read_file(path);
  return formats::parse_hf_llama_config(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), path);
}

}  // namespace

model::LlamaForCausalLM import_hf_llama(const std::string& dir) {
  const auto cfg = read_config(dir + "/config.json");
  model::LlamaForCausalLM net(cfg);
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> params;
  for (auto& item : net->named_parameters()) params[item.key()] = item.value();

  // Which shard holds which tensor: the index when there is one, else the one file.
  const std::string index_path = dir + "/model.safetensors.index.json";
  std::map<std::string, std::string> shard_of;  // tensor -> file name (only with an index)
  std::set<std::string> shards;
  if (file_exists(index_path)) {
    const std::string text = read_file(index_path);
    shard_of = formats::parse_safetensors_index(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                                index_path);
    for (const auto& [name, file] : shard_of) shards.insert(file);
  } else {
    shards.insert("model.safetensors");
  }

  std::set<std::string> loaded;
  for (const auto& file : shards) {
    const std::string path = dir + "/" + file;
    if (!file_exists(path)) fail(path, "missing: " + (shard_of.empty() ? std::string("no model.safetensors") : "named by " + index_path));
    formats::SafetensorsReader r(path);
    for (const auto& info : r.tensors()) {
      if (ends_with(info.name, "rotary_emb.inv_freq")) continue;  // computed from the config, not loaded
      auto p = params.find(info.name);
      if (p == params.end())
        fail(path, "tensor '" + info.name + "' is not part of a " + cfg.model_type + " model of this config.json");
      if (!shard_of.empty() && shard_of.count(info.name) && shard_of[info.name] != file)
        fail(path, "tensor '" + info.name + "' is here, but the index puts it in " + shard_of[info.name]);
      if (!loaded.insert(info.name).second) fail(path, "tensor '" + info.name + "' appears twice");
      const auto want = p->second.sizes().vec();
      if (info.shape != want)
        fail(path, "tensor '" + info.name + "' has shape " + c10::str(c10::IntArrayRef(info.shape)) + ", expected " +
                       c10::str(c10::IntArrayRef(want)));
      p->second.copy_(tensor_from_bytes(r.data(info), float_type(info.dtype, path, info.name), info.shape));
    }
  }
  for (const auto& [name, t] : params)
    if (!loaded.count(name))
      fail(dir, "tensor '" + name + "' of the " + cfg.model_type + " model is in none of its safetensors files");
  net->eval();
  return net;
}

ImportedLlama import_hf_llama_folder(const std::string& dir, const std::string& tokenizer_dir) {
  ImportedLlama out;
  out.model = import_hf_llama(dir);
  const std::string tokenizer_json = dir + "/tokenizer.json";
  if (!file_exists(tokenizer_json)) return out;
  try {
    const auto tok = text::Tokenizer::load_hf(tokenizer_json);
    if (std::int64_t(tok.vocab_size()) > out.model->config().vocab_size)
      fail(tokenizer_json, "has " + std::to_string(tok.vocab_size()) + " tokens, more than the model's " +
                               std::to_string(out.model->config().vocab_size) + " rows");
  } catch (const Error& e) {
    out.tokenizer_problem = e.what();
    return out;
  }
  std::filesystem::create_directories(tokenizer_dir);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    if (file_exists(dir + "/" + name)) write_file_atomic(tokenizer_dir + "/" + name, read_file(dir + "/" + name));
  out.wrote_tokenizer = true;
  return out;
}

void export_hf_llama(model::LlamaForCausalLM& model, const std::string& tokenizer_dir, const std::string& path,
                     FloatType dtype) {
  const auto st = safetensors_dtype(dtype);
  formats::SafetensorsWriter w;
  w.set_metadata("format", "pt");  // what transformers writes and checks
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_parameters()) {
    const torch::Tensor x = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const std::string bytes = tensor_bytes(x, dtype);
    w.add(item.key(), st, x.sizes().vec(), bytes.data(), bytes.size());
  }
  w.write(path);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  json cfg = formats::hf_llama_config_json(model->config());
  cfg["torch_dtype"] = dtype == FloatType::F32 ? "float32" : dtype == FloatType::F16 ? "float16" : "bfloat16";
  write_file_atomic((dir / "config.json").string(), cfg.dump(2) + "\n");
  if (!tokenizer_dir.empty() && file_exists(tokenizer_dir + "/tokenizer.json"))
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
      if (file_exists(tokenizer_dir + "/" + name))
        write_file_atomic((dir / name).string(), read_file(tokenizer_dir + "/" + name));
}

}  // namespace structlm::interop
