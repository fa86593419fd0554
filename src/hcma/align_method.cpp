#include "hcma/align_method.h"

#include <algorithm>

#include "hcma/align_loop.h"
#include "hcma/baselines.h"
#include "core/error.h"

namespace structlm::hcma {

std::unique_ptr<AlignMethod> make_hcma_method(const HcmaOptions& opt);  // hcma/align_hcma.cpp
std::unique_ptr<AlignMethod> make_shrink_method(const HcmaOptions& h, const ShrinkOptions& o);  // hcma/align_hcma.cpp

namespace {

// abtt and whiten: closed-form post-processing of E⁰, no randomness and no loop.
class ClosedFormMethod : public AlignMethod {
 public:
  bool deterministic() const final { return true; }
  bool uses_lm() const final { return false; }
  torch::Tensor align(AlignRun& run) final {
    run.counts = calibration_counts(run);
    return table(run.E0, run.report);
  }

 protected:
  virtual torch::Tensor table(const torch::Tensor& E0, json& report) const = 0;
};

class Abtt : public ClosedFormMethod {
 public:
  explicit Abtt(const AbttOptions& o) : opt_(o) {}
  std::string name() const override { return "abtt"; }

 protected:
  torch::Tensor table(const torch::Tensor& E0, json& report) const override {
    const int D = opt_.directions > 0 ? opt_.directions : default_abtt_directions(E0.size(1));
    report["directions"] = D;
    return all_but_the_top(E0, D);
  }

 private:
  AbttOptions opt_;
};

class Whiten : public ClosedFormMethod {
 public:
  std::string name() const override { return "whiten"; }

 protected:
  torch::Tensor table(const torch::Tensor& E0, json&) const override { return whiten(E0); }
};

// The LM loss on the calibration text through the frozen model ("conventional fine-tuning").
class EmbFinetune : public TrainedMethod {
 public:
  std::string name() const override { return "emb-finetune"; }
  bool uses_lm() const override { return true; }

 protected:
  std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) override { return {{"lm", lm_loss(s)}}; }
};

// The same with Gaussian noise on the input embeddings ("embedding perturbation").
class EmbNoise : public TrainedMethod {
 public:
  explicit EmbNoise(const EmbNoiseOptions& o) : opt_(o) {}
  std::string name() const override { return "emb-noise"; }
  bool uses_lm() const override { return true; }

 protected:
  std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) override {
    return {{"lm", lm_loss(s, opt_.noise)}};
  }

 private:
  EmbNoiseOptions opt_;
};

// The LM loss plus the mean pairwise cosine of E (Gao et al. 2019).
class Cosreg : public TrainedMethod {
 public:
  explicit Cosreg(const CosregOptions& o) : opt_(o) {}
  std::string name() const override { return "cosreg"; }
  bool uses_lm() const override { return true; }

 protected:
  std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) override {
    std::map<std::string, torch::Tensor> terms;
    terms["lm"] = lm_loss(s);
    terms["cos"] = opt_.weight * mean_pairwise_cosine(s.param);
    return terms;
  }

 private:
  CosregOptions opt_;
};

struct Entry {
  const char* name;
  std::unique_ptr<AlignMethod> (*make)(const AlignOptions&);
};

// The registry, in the order of method_names() (and of the experiment's tables).
const std::vector<Entry>& registry() {
  static const std::vector<Entry> methods = {
      {"hcma", [](const AlignOptions& o) { return make_hcma_method(o.hcma); }},
      {"abtt", [](const AlignOptions& o) -> std::unique_ptr<AlignMethod> { return std::make_unique<Abtt>(o.abtt); }},
      {"whiten", [](const AlignOptions&) -> std::unique_ptr<AlignMethod> { return std::make_unique<Whiten>(); }},
      {"emb-finetune", [](const AlignOptions&) -> std::unique_ptr<AlignMethod> { return std::make_unique<EmbFinetune>(); }},
      {"emb-noise", [](const AlignOptions& o) -> std::unique_ptr<AlignMethod> { return std::make_unique<EmbNoise>(o.emb_noise); }},
      {"cosreg", [](const AlignOptions& o) -> std::unique_ptr<AlignMethod> { return std::make_unique<Cosreg>(o.cosreg); }},
      {"shrink", [](const AlignOptions& o) { return make_shrink_method(o.hcma, o.shrink); }},
  };
  return methods;
}

}  // namespace

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : registry()) n.push_back(m.name);
    return n;
  }();
  return names;
}

std::unique_ptr<AlignMethod> make_align_method(const AlignOptions& opt, const std::string& where) {
  for (const auto& m : registry())
    if (opt.method == m.name) return m.make(opt);
  std::string known;
  for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
  fail(where, "unknown alignment method '" + opt.method + "' (" + known + ")");
}

torch::Tensor calibration_counts(const AlignRun& run) {
  const std::int64_t V = run.E0.size(0);
  std::size_t n = run.calib.size();
  if (run.options.calib_tokens > 0) n = std::min(n, run.options.calib_tokens);
  std::vector<std::int64_t> ids(n);
  run.calib.read(0, n, ids.data());
  auto t = torch::from_blob(ids.data(), {std::int64_t(n)}, torch::kLong);
  check(n == 0 || (t.min().item<std::int64_t>() >= 0 && t.max().item<std::int64_t>() < V), "calibration",
        "token ids outside the model's vocabulary");
  return torch::bincount(t, {}, V);
}

}  // namespace structlm::hcma
