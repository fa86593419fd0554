// The one place that assembles models: a GPT with the plug-ins its configuration asks for
// (CSTDE's dependency scorer as the key prior when model.cstde.attention is on). The model
// library owns only the plug's interface (model/key_prior.h), so it needs nothing from a method
// folder; every caller that builds a model from a configuration or a checkpoint comes here.
#pragma once
#include <torch/torch.h>

#include <string>

#include "model/checkpoint.h"
#include "model/gpt.h"
#include "model/llama.h"

namespace structlm::zoo {

// The key-prior factory a configuration needs; empty when it needs none.
model::KeyPriorFactory key_prior_for(const model::GPTConfig& c);

// A freshly initialised GPT (init_gpt2_weights; deterministic given torch's seed).
model::GPT make_gpt(const model::GPTConfig& c);

// A freshly initialised Llama-family model (model::init_llama_weights; deterministic given
// torch's seed), with CSTDE's dependency scorer in every layer when cstde.attention is on.
model::LlamaForCausalLM make_llama(const model::LlamaConfig& c, const model::CstdeConfig& cstde = {});

// Builds the model a checkpoint describes and loads its weights (shapes checked, names must
// match), on `device`, in eval mode. Errors name the file.
model::GPT load_model(const std::string& path, torch::Device device = torch::kCPU);

// A model of any architecture (model/checkpoint.h's "arch"), as `eval` and `sample` use it.
struct LoadedModel {
  std::string arch;                        // "gpt" or "llama"
  model::GPT gpt{nullptr};                 // arch "gpt"
  model::LlamaForCausalLM llama{nullptr};  // arch "llama"
  model::CausalLM& lm() { return arch == "gpt" ? static_cast<model::CausalLM&>(*gpt) : *llama; }
};

// A freshly initialised model of a run configuration's architecture (model.arch): make_gpt, or
// make_llama of model::llama_config (whose errors name `path`).
LoadedModel make_model(const model::ModelConfig& c, const std::string& path);

// Builds the model a checkpoint of any architecture describes, loads its weights, on `device`,
// in eval mode. Errors name the file.
LoadedModel load_any_model(const std::string& path, torch::Device device = torch::kCPU);

// A new model of `src`'s architecture and configuration (a GPT with the plug-ins its config asks
// for), untied when `untie` (its output matrix lm_head.weight, the input table's copy to be filled
// in), on the CPU. Its weights are whatever construction gives: the caller copies them in (HCMA's
// hcma::with_input_embeddings). An architecture zoo does not build is an error.
LoadedModel make_like(model::CausalLM& src, bool untie);

}  // namespace structlm::zoo
