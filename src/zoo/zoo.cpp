#include "zoo/zoo.h"

#include "core/error.h"
#include "cstde/dependency.h"
#include "formats/hf_llama_config.h"

namespace structlm::zoo {

model::KeyPriorFactory key_prior_for(const model::GPTConfig& c) {
  return c.cstde.attention ? cstde::dependency_prior() : model::KeyPriorFactory();
}

model::GPT make_gpt(const model::GPTConfig& c) { return model::GPT(c, key_prior_for(c)); }

model::LlamaForCausalLM make_llama(const model::LlamaConfig& c, const model::CstdeConfig& cstde) {
  model::LlamaForCausalLM net(c, cstde, cstde.attention ? cstde::dependency_prior() : model::KeyPriorFactory());
  model::init_llama_weights(*net);
  return net;
}

LoadedModel make_model(const model::ModelConfig& c, const std::string& path) {
  LoadedModel out;
  out.arch = c.arch;
  if (c.is_llama())
    out.llama = make_llama(model::llama_config(c, path), c.cstde);
  else
    out.gpt = make_gpt(c);
  return out;
}

model::GPT load_model(const std::string& path, torch::Device device) {
  model::Checkpoint ck = model::read_checkpoint(path);
  model::GPT net = make_gpt(ck.config);
  model::load_weights(net, ck, path);
  net->to(device);
  net->eval();
  return net;
}

LoadedModel load_any_model(const std::string& path, torch::Device device) {
  model::Checkpoint ck = model::read_any_checkpoint(path);
  LoadedModel out;
  out.arch = ck.arch;
  if (ck.arch == "gpt") {
    out.gpt = make_gpt(ck.config);
    model::load_weights(out.gpt, ck, path);
  } else {
    // The stored config.json is read as hostile input, like the one it was imported from.
    const std::string text = ck.meta["config"].dump();
    const auto hf = formats::parse_hf_llama_config(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                                   path + " (metadata 'config')");
    // CSTDE's attention travels as metadata "cstde" beside HF's config (model/checkpoint.h).
    model::CstdeConfig cstde;
    if (ck.meta.contains("cstde")) {
      cstde = model::CstdeConfig::from_json(ck.meta["cstde"], path + " (metadata 'cstde')");
      check(cstde.attention, path, "metadata 'cstde' is there but its 'attention' is not true");
    }
    out.llama = model::LlamaForCausalLM(hf, cstde, key_prior_for(model::key_prior_view(hf, cstde)));
    model::load_module_weights(*out.llama, ck, path);
  }
  out.lm().module().to(device);
  out.lm().module().eval();
  return out;
}

LoadedModel make_like(model::CausalLM& src, bool untie) {
  LoadedModel out;
  out.arch = src.arch();
  if (auto* gpt = dynamic_cast<model::GPTImpl*>(&src)) {
    auto c = gpt->config();
    if (untie) c.tied = false;
    out.gpt = make_gpt(c);
  } else if (auto* llama = dynamic_cast<model::LlamaForCausalLMImpl*>(&src)) {
    auto c = llama->config();
    if (untie) c.tie_word_embeddings = false;
    const auto& cstde = llama->cstde_config();
    // no init: every weight is overwritten
    out.llama = model::LlamaForCausalLM(c, cstde, key_prior_for(model::key_prior_view(c, cstde)));
  } else {
    fail("model", std::string("architecture '") + src.arch() + "' is not one zoo builds");
  }
  return out;
}

}  // namespace structlm::zoo
