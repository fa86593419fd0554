// bf16 mixed precision: which precision `auto` picks, what the autocast guard turns on and off,
// and that a bf16 forward and backward agree with fp32 to bf16's accuracy.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/platform.h"
#include "model/precision.h"
#include "model_test_util.h"

using namespace structlm;
using namespace structlm::model;

namespace {

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-30);
}

}  // namespace

TEST(Precision, NamesResolveAndAutoFollowsTheCpuFlags) {
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(resolve_precision("fp32", cpu).precision, Precision::fp32);
  EXPECT_EQ(resolve_precision("bf16", cpu).precision, Precision::bf16);
  EXPECT_STREQ(resolve_precision("bf16", cpu).name(), "bf16");
  // auto: bf16 exactly where the CPU has bf16 matrix hardware and torch has oneDNN's kernels.
  const bool fast = (cpu_has_flag("amx_bf16") || cpu_has_flag("avx512_bf16")) && at::hasMKLDNN();
  const PrecisionChoice a = resolve_precision("auto", cpu);
  EXPECT_EQ(a.precision, fast ? Precision::bf16 : Precision::fp32) << a.why;
  EXPECT_EQ(a.why.rfind("auto: ", 0), 0u) << a.why;
  // An unknown name is an error that lists the known ones.
  for (const char* bad : {"", "fp16", "BF16", "float32"}) {
    EXPECT_FALSE(is_precision_name(bad)) << bad;
    try {
      resolve_precision(bad, cpu);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("auto, fp32 or bf16"), std::string::npos) << e.what();
    }
  }
}

TEST(Precision, CpuFlagsAreReadFromTheKernel) {
  const auto flags = cpu_flags();
  ASSERT_FALSE(flags.empty());  // Linux on x86-64: /proc/cpuinfo lists them
  EXPECT_TRUE(cpu_has_flag(flags.front()));
  EXPECT_FALSE(cpu_has_flag("no_such_flag"));
}

TEST(Precision, TheGuardTurnsAutocastOnForItsScopeOnlyAndNests) {
  torch::manual_seed(1);
  torch::nn::Linear lin(8, 4);
  const auto x = torch::randn({3, 8});
  EXPECT_EQ(lin(x).scalar_type(), torch::kFloat);
  {
    AutocastGuard outer(Precision::bf16, torch::kCPU);
    EXPECT_EQ(lin(x).scalar_type(), torch::kBFloat16);
    {
      AutocastGuard inner(Precision::bf16, torch::kCPU);
      EXPECT_EQ(lin(x).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(lin(x).scalar_type(), torch::kBFloat16);  // the outer one still holds
    AutocastGuard none(Precision::fp32, torch::kCPU);   // fp32 changes nothing
    EXPECT_EQ(lin(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(lin(x).scalar_type(), torch::kFloat);
  EXPECT_EQ(lin->weight.scalar_type(), torch::kFloat);  // master weights stay fp32
  {
    AutocastGuard fp32(Precision::fp32, torch::kCPU);
    EXPECT_EQ(lin(x).scalar_type(), torch::kFloat);
  }
}

// Autocast caches the bf16 copy of each weight within a region; leaving the region drops it, so
// a weight changed in between (an optimizer step) is seen by the next region.
TEST(Precision, AWeightUpdatedBetweenRegionsIsSeenByTheNext) {
  torch::manual_seed(2);
  torch::nn::Linear lin(16, 16);
  const auto x = torch::randn({4, 16});
  torch::Tensor before, after;
  {
    AutocastGuard g(Precision::bf16, torch::kCPU);
    before = lin(x).to(torch::kFloat);
  }
  {
    torch::NoGradGuard no_grad;
    lin->weight.mul_(-1);
  }
  {
    AutocastGuard g(Precision::bf16, torch::kCPU);
    after = lin(x).to(torch::kFloat);
  }
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = lin(x);  // fp32, with the updated weight
  }
  EXPECT_LT(rel_diff(after, expected), 2e-2);
  EXPECT_GT(rel_diff(before, expected), 0.5);  // the update matters: a stale copy would show
}

// The whole model's loss and gradients in bf16 agree with fp32 to bf16's accuracy (8 bits of
// mantissa: ~0.4 % per rounding); the gradients land on the fp32 parameters.
TEST(Precision, Bf16LossAndGradientsMatchFp32) {
  for (bool cstde : {false, true}) {
    torch::manual_seed(3);
    GPTConfig c = structlm::model::testing::tiny_config(/*tied=*/true, /*bias=*/true);
    c.n_embd = 32;
    c.vocab_size = 50;
    if (cstde) {
      c.cstde.attention = true;
      c.cstde.carry = true;
    }
    GPT m = zoo::make_gpt(c);
    // Random weights of a useful size everywhere, dep_beta included (it starts at 0, which would
    // leave the dependency scorer without a gradient to compare).
    structlm::model::testing::randomize(*m, 0.1);
    const auto idx = torch::randint(0, c.vocab_size, {4, c.block_size});
    const auto tgt = torch::randint(0, c.vocab_size, {4, c.block_size});

    auto loss32 = m->loss(idx, tgt);
    loss32.backward();
    std::vector<torch::Tensor> g32;
    for (auto& p : m->parameters()) g32.push_back(p.grad().clone());
    m->zero_grad();

    torch::Tensor loss16;
    {
      AutocastGuard g(Precision::bf16, torch::kCPU);
      loss16 = m->loss(idx, tgt);
    }
    EXPECT_EQ(loss16.scalar_type(), torch::kFloat);  // the loss itself is taken in fp32
    loss16.backward();
    EXPECT_NEAR(loss16.item<double>(), loss32.item<double>(), 1e-2 * loss32.item<double>()) << "cstde " << cstde;
    std::size_t i = 0;
    for (auto& item : m->named_parameters()) {
      const auto& p = item.value();
      ASSERT_TRUE(p.grad().defined());
      EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
      EXPECT_EQ(p.scalar_type(), torch::kFloat);
      if (g32[i].norm().item<double>() > 1e-4) EXPECT_LT(rel_diff(p.grad(), g32[i]), 0.1) << item.key();
      ++i;
    }
    // ... and bf16 is really in use: the loss is not bit-identical to fp32's.
    EXPECT_NE(loss16.item<double>(), loss32.item<double>());
  }
}
