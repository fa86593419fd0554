// Fused ops against the unfused libtorch ops they replace, forward plus backward, timed in one
// process: the two sides alternate, ROUNDS times, and the per-round ratio is printed, so load from
// other work falls on both. Shapes default to the bench model's (scripts/bench.sh): 2,048 tokens,
// MLP width 1,536.
//   ops_bench [--rows N] [--hidden H] [--rounds R] [--iters K] [--threads T]
// Prints, per op, "OP DTYPE: unfused X ms, fused Y ms, ratio unfused/fused Z (median of R rounds)".
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
#include "model/gelu.h"

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
  std::map<std::string, long> o = {{"rows", 2048}, {"hidden", 1536}, {"rounds", 7}, {"iters", 5}, {"threads", 2}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || !o.count(a.substr(2)) || i + 1 >= argc) {
      std::fprintf(stderr, "ops_bench: bad argument %s\nusage: ops_bench [--rows N] [--hidden H] [--rounds R] [--iters K] [--threads T]\n",
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
  return 0;
}
