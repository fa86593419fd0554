#include "hcma/frozen_check.h"

#include <cstring>

namespace structlm::hcma {

namespace {

bool same_bytes(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  auto x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), std::size_t(x.numel()) * x.element_size()) == 0;
}

// Whether the source's output matrix is its input table: the GPT's config "tied", the Llama
// family's config.json "tie_word_embeddings".
bool tied(const model::Checkpoint& c) {
  if (c.arch == "gpt") return c.config.tied;
  const json& cfg = c.meta.contains("config") ? c.meta["config"] : json::object();
  return cfg.contains("tie_word_embeddings") && cfg["tie_word_embeddings"].is_boolean() &&
         cfg["tie_word_embeddings"].get<bool>();
}

}  // namespace

std::string input_table_name(const std::string& arch) { return arch == "llama" ? "model.embed_tokens.weight" : "wte.weight"; }

std::vector<std::string> frozen_weight_violations(const model::Checkpoint& source, const model::Checkpoint& aligned) {
  std::vector<std::string> bad;
  if (aligned.arch != source.arch)
    bad.push_back("arch: the aligned model is " + aligned.arch + ", the source " + source.arch);
  auto is_model_tensor = [](const std::string& name) { return name.rfind("optim.", 0) != 0; };
  const auto& src = source.tensors;
  const std::string input = input_table_name(source.arch);
  for (const auto& [name, t] : aligned.tensors) {
    if (name == input) {
      auto it = src.find(name);
      if (it == src.end() || it->second.sizes() != t.sizes()) bad.push_back(input + ": shape differs from the source's");
      continue;
    }
    if (name == "lm_head.weight") {
      auto it = src.find(tied(source) ? input : "lm_head.weight");
      if (it == src.end() || !same_bytes(it->second, t))
        bad.push_back("lm_head.weight: not the source's output matrix, byte for byte");
      continue;
    }
    auto it = src.find(name);
    if (it == src.end()) bad.push_back(name + ": not in the source");
    else if (!same_bytes(it->second, t)) bad.push_back(name + ": bytes differ from the source's");
  }
  for (const auto& [name, t] : src)
    if (is_model_tensor(name) && !aligned.tensors.count(name)) bad.push_back(name + ": missing from the aligned model");
  if (!aligned.tensors.count("lm_head.weight")) bad.push_back("lm_head.weight: missing (the aligned model must be untied)");
  return bad;
}

}  // namespace structlm::hcma
