// Parity with an independent Python implementation (scripts/reference/gpt.py): the C++ model's
// weights, an input, its logits, loss and gradients are exported as raw little-endian binary plus
// a JSON manifest; scripts/reference/gpt_parity.py loads them into the Python model and compares.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "core/json.h"
#include "model/gpt.h"
#include "model_test_util.h"

using namespace structlm::model;
using namespace structlm::model::testing;
namespace fs = std::filesystem;

namespace {

// The Python peer is Debian's python3-torch for /usr/bin/python3 (scripts/setup.sh installs it), not whatever
// `python3` is first on PATH.
const char* kPython = "/usr/bin/python3";

bool python_torch_available() {
  static const bool ok = std::system((std::string(kPython) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

// Tensors laid end to end in one file, each 8-byte aligned, described by a manifest.
class Export {
 public:
  void add(const std::string& name, torch::Tensor t) {
    t = t.detach().contiguous().cpu();
    const char* dtype = t.scalar_type() == torch::kFloat64   ? "f64"
                        : t.scalar_type() == torch::kFloat32 ? "f32"
                        : t.scalar_type() == torch::kLong    ? "i64"
                                                             : nullptr;
    ASSERT_NE(dtype, nullptr) << name << ": unsupported dtype";
    while (blob_.size() % 8) blob_.push_back(0);
    tensors_[name] = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"offset", blob_.size()}};
    const auto* bytes = static_cast<const char*>(t.data_ptr());
    blob_.insert(blob_.end(), bytes, bytes + t.numel() * t.element_size());
  }
  void write(const fs::path& dir, const GPTConfig& c) const {
    fs::create_directories(dir);
    std::ofstream(dir / "tensors.bin", std::ios::binary).write(blob_.data(), blob_.size());
    structlm::json manifest{{"config", c.to_json()}, {"data", "tensors.bin"}, {"tensors", tensors_}};
    std::ofstream(dir / "manifest.json") << manifest.dump(1);
  }

 private:
  std::vector<char> blob_;
  structlm::json tensors_ = structlm::json::object();
};

struct RunResult {
  int exit_code;
  std::string output;
};

RunResult run_parity(const fs::path& dir) {
  const std::string cmd = std::string(kPython) + " '" + STRUCTLM_SOURCE_DIR + "/scripts/reference/gpt_parity.py' '" +
                          dir.string() + "' 2>&1";
  RunResult r{-1, ""};
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path scratch_dir(const std::string& name) {
  return fs::path(STRUCTLM_BINARY_DIR) / "test_scratch" / ("model_parity_" + std::to_string(::getpid())) / name;
}

// Builds a small model with random weights, runs a batch through it, and exports everything the
// Python side needs to redo and check the computation. `corrupt` perturbs one exported logit.
void export_case(const fs::path& dir, const GPTConfig& c, torch::Dtype dtype, bool corrupt = false) {
  GPT m = make_model(c, 2024, /*matrix_std=*/0.2, dtype);
  const auto idx = random_tokens(3, c.block_size, c.vocab_size, 8);
  const auto targets = random_tokens(3, c.block_size, c.vocab_size, 9);
  const auto logits = m->forward(idx);
  const auto loss = torch::nn::functional::cross_entropy(logits.view({-1, c.vocab_size}), targets.view({-1}));
  loss.backward();

  Export e;
  for (auto& item : m->named_parameters()) {
    if (!item.value().requires_grad()) continue;  // frozen zero LayerNorm biases: not parameters in Python
    e.add("param:" + item.key(), item.value());
    e.add("grad:" + item.key(), item.value().grad());
  }
  e.add("idx", idx);
  e.add("targets", targets);
  auto out = logits.detach().clone();
  if (corrupt) out[1][2][3] += 1e-6 * out.abs().max();
  e.add("logits", out);
  e.add("loss", loss.reshape({1}));
  e.write(dir, c);
}

struct ParityCase {
  const char* name;
  bool tied, bias;
  torch::Dtype dtype;
  bool cstde = false, carry = true;  // CSTDE dependency-weighted attention (METHODS.md §1b)
};

void PrintTo(const ParityCase& c, std::ostream* os) { *os << c.name; }

class Parity : public ::testing::TestWithParam<ParityCase> {
 protected:
  void SetUp() override {
    if (!python_torch_available())
      GTEST_SKIP() << kPython << " cannot import torch: install Debian's python3-torch to run the Python parity check";
  }
};

TEST_P(Parity, PythonModelGivesSameLogitsLossAndGradients) {
  const auto& pc = GetParam();
  GPTConfig c = tiny_config(pc.tied, pc.bias);
  c.vocab_size = 37, c.block_size = 10, c.n_layer = 2, c.n_head = 2, c.n_embd = 16;
  if (pc.cstde) {
    c.n_layer = 3;  // two carries
    c.cstde.attention = true;
    c.cstde.carry = pc.carry;
    c.cstde.rank = 4, c.cstde.buckets = 6, c.cstde.max_distance = 7;  // distances 8, 9 clamp
  }
  const auto dir = scratch_dir(pc.name);
  export_case(dir, c, pc.dtype);
  const auto r = run_parity(dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The summary line names the worst relative error reached; show it in the test log.
  std::cout << r.output.substr(r.output.rfind("PARITY"));
  fs::remove_all(dir.parent_path());
}

INSTANTIATE_TEST_SUITE_P(Models, Parity,
                         ::testing::Values(ParityCase{"untied_bias_f64", false, true, torch::kFloat64},
                                           ParityCase{"tied_nobias_f64", true, false, torch::kFloat64},
                                           ParityCase{"tied_bias_f32", true, true, torch::kFloat32},
                                           ParityCase{"cstde_carry_f64", true, true, torch::kFloat64, true, true},
                                           ParityCase{"cstde_nocarry_f64", false, true, torch::kFloat64, true, false},
                                           ParityCase{"cstde_carry_f32", true, true, torch::kFloat32, true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// The check itself must be able to fail: a logit off by one part in a million is caught.
TEST_F(Parity, CheckerRejectsAPerturbedLogit) {
  GPTConfig c = tiny_config(/*tied=*/false, /*bias=*/true);
  const auto dir = scratch_dir("corrupt");
  export_case(dir, c, torch::kFloat64, /*corrupt=*/true);
  const auto r = run_parity(dir);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("MISMATCH logits"), std::string::npos) << r.output;
  fs::remove_all(dir.parent_path());
}

}  // namespace
