// Fused ops against the unfused libtorch ops they replace, forward plus backward, timed in one
// process: the two sides alternate, ROUNDS times, and the per-round ratio is printed, so load from
// other work falls on both. Shapes default to the bench model's (scripts/bench.sh): 2,048 tokens,
// MLP width 1,536.
//   ops_bench [--rows N] [--hidden H] [--rounds R] [--iters K] [--threads T]
// Prints, per op, "OP DTYPE: unfused X ms, fused Y ms, ratio unfused/fused Z (median of R rounds)".
// Ops: GELU (model/gelu.h), LayerNorm (model/layer_norm.h; bf16: fp32 in, bf16 out, as under
// autocast), the cross-entropy over the vocabulary (model/cross_entropy.h), CSTDE's log-prior softmax over the attention logits (model/log_prior.h;
// the bench model's [rows / 256, 6 heads, 256, 256]), CSTDE's carried dependency softmax
// (cstde/carry_softmax.h; the demo's [16, 128, 128]), a whole block plain against CSTDE in fp32
// and in bf16, and one AdamW step with gradient clipping over the bench model's parameters
// (train/adamw_kernel.h; --params M, in millions).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/platform.h"
#include "cstde/carry_softmax.h"
#include "model/cross_entropy.h"
#include "model/gelu.h"
#include "model/gpt.h"
#include "model/layer_norm.h"
#include "model/log_prior.h"
#include "model/precision.h"
#include "train/optimizer.h"
#include "zoo/zoo.h"

using namespace structlm;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Milliseconds per call of f, over `iters` calls.
double time_ms(const std::function<void()>& f, int iters) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
}

void compare(const char* name, const std::function<void()>& unfused, const std::function<void()>& fused, int rounds,
             int iters) {
  unfused();  // warm-up: allocator, thread pool
  fused();
  std::vector<double> a, b, r;
  for (int i = 0; i < rounds; ++i) {
    a.push_back(time_ms(unfused, iters));
    b.push_back(time_ms(fused, iters));
    r.push_back(a.back() / b.back());
  }
  std::printf("%s: unfused %.2f ms, fused %.2f ms, ratio unfused/fused %.2f (median of %d rounds)\n", name, median(a),
              median(b), median(r), rounds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);
  std::map<std::string, long> o = {{"rows", 2048}, {"hidden", 1536}, {"rounds", 7}, {"iters", 5}, {"threads", 2}, {"params", 14}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || !o.count(a.substr(2)) || i + 1 >= argc) {
      std::fprintf(stderr, "ops_bench: bad argument %s\nusage: ops_bench [--rows N] [--hidden H] [--rounds R] [--iters K] [--threads T] [--params M]\n",
                   a.c_str());
      return 2;
    }
    char* end = nullptr;
    o[a.substr(2)] = std::strtol(argv[++i], &end, 10);
    if (*end || o[a.substr(2)] <= 0) {
      std::fprintf(stderr, "ops_bench: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  torch::set_num_threads(int(o["threads"]));
  torch::manual_seed(0);
  const int rounds = int(o["rounds"]), iters = int(o["iters"]);
  for (auto dtype : {torch::kBFloat16, torch::kFloat}) {
    // The bench model's MLP activation: [tokens, 4 x 384].
    auto x = torch::randn({o["rows"], o["hidden"]}).to(dtype).requires_grad_();
    const auto g = torch::randn({o["rows"], o["hidden"]}).to(dtype);
    auto unfused = [&] {
      torch::gelu(x, "tanh").backward(g);
      x.mutable_grad() = torch::Tensor();
    };
    auto fused = [&] {
      model::gelu_tanh(x).backward(g);
      x.mutable_grad() = torch::Tensor();
    };
    const std::string name = std::string("gelu ") + (dtype == torch::kBFloat16 ? "bf16" : "fp32") + " [" +
                             std::to_string(o["rows"]) + ", " + std::to_string(o["hidden"]) + "]";
    compare(name.c_str(), unfused, fused, rounds, iters);
  }

  // LayerNorm over the bench model's residual stream [rows, 384], forward and backward. bf16:
  // autocast's route (fp32 layer_norm, cast to bf16 for the matrix product; the bf16 gradient
  // cast back) against the fused one writing bf16 and reading the bf16 gradient; fp32: torch's.
  for (auto dtype : {torch::kBFloat16, torch::kFloat}) {
    auto x = (torch::randn({o["rows"], 384}) * 2 + 1).requires_grad_();
    auto w = (torch::randn({384}) * 0.1 + 1).requires_grad_(), b = (torch::randn({384}) * 0.1).requires_grad_();
    const auto g = torch::randn({o["rows"], 384}).to(dtype);
    auto clear = [&] {
      for (auto* t : {&x, &w, &b}) t->mutable_grad() = torch::Tensor();
    };
    auto unfused = [&] {
      torch::layer_norm(x, {384}, w, b, 1e-5).to(dtype).backward(g);
      clear();
    };
    auto fused = [&] {
      model::layer_norm(x, w, b, 1e-5, dtype).backward(g);
      clear();
    };
    const std::string name = std::string("layer-norm ") + (dtype == torch::kBFloat16 ? "fp32->bf16" : "fp32") + " [" +
                             std::to_string(o["rows"]) + ", 384]";
    compare(name.c_str(), unfused, fused, rounds, iters);
  }

  // The training loss over the bench model's logits [rows, 8192]: torch's route (widen to fp32,
  // cross_entropy) against the fused one (model/cross_entropy.h).
  for (auto dtype : {torch::kBFloat16, torch::kFloat}) {
    auto z = torch::randn({o["rows"], 8192}).to(dtype).requires_grad_();
    const auto t = torch::randint(8192, {o["rows"]}, torch::kLong);
    auto unfused = [&] {
      torch::nn::functional::cross_entropy(z.to(torch::kFloat), t).backward();
      z.mutable_grad() = torch::Tensor();
    };
    auto fused = [&] {
      model::cross_entropy(z, t).backward();
      z.mutable_grad() = torch::Tensor();
    };
    const std::string name = std::string("cross-entropy ") + (dtype == torch::kBFloat16 ? "bf16" : "fp32") + " [" +
                             std::to_string(o["rows"]) + ", 8192]";
    compare(name.c_str(), unfused, fused, rounds, iters);
  }

  // CSTDE's softmax over keys of the causal logits plus the per-head log-prior, forward and
  // backward: fp32 logits, and bf16 logits as autocast gives them (beta and D in fp32).
  for (auto dtype : {torch::kBFloat16, torch::kFloat}) {
    const std::int64_t T = 256, H = 6, B = std::max<long>(1, o["rows"] / T);
    auto mask = torch::ones({T, T}, torch::kBool).triu(1);
    auto att = torch::randn({B, H, T, T}).masked_fill(mask, -INFINITY).to(dtype).requires_grad_();
    auto D = torch::softmax(torch::randn({B, T, T}).masked_fill(mask, -INFINITY), -1).requires_grad_();
    auto beta = (torch::randn({H}) * 0.1).requires_grad_();
    const auto g = torch::randn({B, H, T, T}).masked_fill(mask, 0.0).to(dtype);
    auto run = [&](bool fused) {
      return [&, fused] {
        auto out = fused ? model::log_prior_softmax(att, beta, D, 1e-6)
                         : model::log_prior_softmax_unfused(att, beta, D, 1e-6);
        out.backward(g);
        for (auto* t : {&att, &D, &beta}) t->mutable_grad() = torch::Tensor();
      };
    };
    const std::string name = std::string("log-prior softmax ") + (dtype == torch::kBFloat16 ? "bf16" : "fp32") +
                             " [" + std::to_string(B) + ", 6, 256, 256]";
    compare(name.c_str(), run(false), run(true), rounds, iters);
  }

  // CSTDE's carried dependency distribution D = prev + gamma (softmax(s) - prev) over the demo's
  // [16, 128, 128] scores, forward and backward: bf16 scores (autocast) and fp32.
  for (auto dtype : {torch::kBFloat16, torch::kFloat}) {
    const std::int64_t T = 128, B = 16;
    auto mask = torch::ones({T, T}, torch::kBool).triu(1);
    auto s = torch::randn({B, T, T}).masked_fill(mask, -INFINITY).to(dtype).requires_grad_();
    auto prev = torch::softmax(torch::randn({B, T, T}).masked_fill(mask, -INFINITY), -1).requires_grad_();
    auto gamma = torch::full({1}, 0.5).requires_grad_();
    const auto g = torch::randn({B, T, T});
    auto run = [&](bool fused) {
      return [&, fused] {
        auto out = fused ? cstde::carried_softmax(s, prev, gamma) : cstde::carried_softmax_unfused(s, prev, gamma);
        out.backward(g);
        for (auto* t : {&s, &prev, &gamma}) t->mutable_grad() = torch::Tensor();
      };
    };
    const std::string name = std::string("carry softmax ") + (dtype == torch::kBFloat16 ? "bf16" : "fp32") + " [16, 128, 128]";
    compare(name.c_str(), run(false), run(true), rounds, iters);
  }

  // A whole transformer block at the demo's size (bench_cstde.sh: [16, 128] tokens, width 256, 4
  // heads), forward and backward: the CSTDE block (dependency scorer of rank 32 with carry,
  // log-prior on the logits) in the "unfused" column, the plain block in the "fused" one, so the
  // ratio is the CSTDE block's step-time overhead.
  {
    model::GPTConfig c;
    c.n_layer = 2, c.n_head = 4, c.n_embd = 256, c.block_size = 128, c.vocab_size = 512, c.dropout = 0.0;
    auto cc = c;
    cc.cstde.attention = true, cc.cstde.rank = 32, cc.cstde.carry = true;
    torch::manual_seed(1);
    model::Block plain(c, 1), cstde(cc, 1, zoo::key_prior_for(cc));
    plain->train();
    cstde->train();
    const std::int64_t B = 16, T = 128;
    auto x = torch::randn({B, T, 256}).requires_grad_();
    const auto g = torch::randn({B, T, 256});
    const auto prev = torch::softmax(torch::randn({B, T, T}).masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY), -1);
    auto run = [&](model::Block& b) {
      return [&] {
        torch::Tensor d = b->dep ? prev : torch::Tensor();
        auto y = b->forward(x, d);
        y.backward(g);
        x.mutable_grad() = torch::Tensor();
        for (auto& p : b->parameters()) p.mutable_grad() = torch::Tensor();
      };
    };
    for (auto precision : {model::Precision::bf16, model::Precision::fp32}) {
      model::AutocastGuard autocast(precision, torch::kCPU);  // as train.precision runs the step
      const std::string name = std::string("block ") + (precision == model::Precision::bf16 ? "bf16" : "fp32") +
                               " [16, 128, 256], cstde (\"unfused\") vs plain (\"fused\"): ratio = cstde overhead";
      compare(name.c_str(), run(cstde), run(plain), rounds, iters);
    }
  }

  // AdamW over the bench model's ~14M parameters (6 layers of 384, vocabulary 8192, tied):
  // clip_grad_norm + seven torch ops per tensor, against the norm + one fused pass.
  {
    std::vector<torch::Tensor> pa, pb;
    std::map<const void*, std::string> na, nb;
    const std::vector<std::int64_t> sizes = {8192 * 384, 256 * 384};
    std::vector<std::int64_t> all = sizes;
    for (int l = 0; l < 6; ++l)
      for (std::int64_t n : {384 * 1152, 1152, 384 * 384, 384, 384 * 1536, 1536, 1536 * 384, 384, 384, 384, 384, 384})
        all.push_back(n);
    std::int64_t total = 0;
    for (auto n : all) total += n;
    const double scale = double(o["params"]) * 1e6 / double(total);  // --params resizes every tensor
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto n = std::max<std::int64_t>(1, std::int64_t(double(all[i]) * scale));
      pa.push_back(torch::randn({n}).requires_grad_());
      pb.push_back(pa.back().detach().clone().requires_grad_());
      pa.back().mutable_grad() = torch::randn({n});
      pb.back().mutable_grad() = pa.back().grad().clone();
      na[pa.back().unsafeGetTensorImpl()] = nb[pb.back().unsafeGetTensorImpl()] = "p" + std::to_string(i);
    }
    train::AdamW unfused_opt(pa, {}, na, {}), fused_opt(pb, {}, nb, {});
    unfused_opt.set_fused(false);
    auto unfused = [&] {
      train::clip_grad_norm(pa, 1.0);
      unfused_opt.step(1e-4);
    };
    auto fused = [&] { fused_opt.step(1e-4, train::clip_scale(train::global_grad_norm(pb), 1.0)); };
    const std::string name = "adamw+clip fp32 [" + std::to_string(o["params"]) + "M params]";
    compare(name.c_str(), unfused, fused, rounds, iters);
  }
  return 0;
}
