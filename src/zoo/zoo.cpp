#include "zoo/zoo.h"

#include "core/error.h"
#include "cstde/dependency.h"

namespace structlm::zoo {

model::KeyPriorFactory key_prior_for(const model::GPTConfig& c) {
  return c.cstde.attention ? cstde::dependency_prior() : model::KeyPriorFactory();
}

model::GPT make_gpt(const model::GPTConfig& c) { return model::GPT(c, key_prior_for(c)); }

model::GPT load_model(const std::string& path, torch::Device device) {
  model::Checkpoint ck = model::read_checkpoint(path);
  model::GPT net = make_gpt(ck.config);
  try {
    model::load_weights(net, ck);
  } catch (const Error& e) {
    // load_weights does not know the path; put it in front, as every file error has it.
    std::string msg = e.what();
    const std::string prefix = "checkpoint: ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    fail(path, msg);
  }
  net->to(device);
  net->eval();
  return net;
}

}  // namespace structlm::zoo
