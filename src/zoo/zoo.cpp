#include "zoo/zoo.h"

#include "core/error.h"
#include "cstde/dependency.h"
#include "formats/hf_llama_config.h"

namespace structlm::zoo {

model::KeyPriorFactory key_prior_for(const model::GPTConfig& c) {
  return c.cstde.attention ? cstde::dependency_prior() : model::KeyPriorFactory();
}

model::GPT make_gpt(const model::GPTConfig& c) { return model::GPT(c, key_prior_for(c)); }

model::LlamaForCausalLM make_llama(const model::LlamaConfig& c) {
  model::LlamaForCausalLM net(c);
  model::init_llama_weights(*net);
  return net;
}

LoadedModel make_model(const model::ModelConfig& c, const std::string& path) {
  LoadedModel out;
  out.arch = c.arch;
  if (c.is_llama())
    out.llama = make_llama(model::llama_config(c, path));
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
    out.llama = model::LlamaForCausalLM(formats::parse_hf_llama_config(
        reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), path + " (metadata 'config')"));
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
    out.llama = model::LlamaForCausalLM(c);  // no init: every weight is overwritten
  } else {
    fail("model", std::string("architecture '") + src.arch() + "' is not one zoo builds");
  }
  return out;
}

}  // namespace structlm::zoo
