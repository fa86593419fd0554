// Training throughput of structlm's GPT: tokens per second of full training steps (forward, loss,
// backward, gradient clipping, AdamW update: the trainer's) on random tokens. scripts/bench.sh runs it next to scripts/reference/
// train_bench.py, the same model and optimizer in PyTorch, and prints the ratio.
// Prints one JSON line: {"impl": "structlm", "tokens_per_s": [per repeat], "median": ...}.
#include <torch/csrc/autograd/profiler_legacy.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/platform.h"
#include "model/gpt.h"
#include "model/precision.h"
#include "model/runtime.h"
#include "train/optimizer.h"
#include "zoo/zoo.h"

using namespace structlm;

namespace {

struct Options {
  std::map<std::string, long> v = {{"layers", 6}, {"heads", 6},  {"embd", 384}, {"vocab", 8192},
                                   {"T", 256},    {"batch", 8},  {"steps", 5},  {"warmup", 2},
                                   {"repeats", 1}, {"threads", 2}, {"seed", 0},  {"cstde-rank", 0},
                                   {"bf16", 0},   {"peak", 0},  {"profile", 0}, {"profile-shapes", 0}};
  bool print_coretype = false;
  std::string device = "cpu";  // --device: cpu (default), cuda, cuda:N or auto
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "train_bench: %s\nusage: train_bench [--layers N] [--heads N] [--embd N] [--vocab N] [--T N] "
               "[--batch N] [--steps N] [--warmup N] [--repeats N] [--threads N] [--seed N] [--cstde-rank R] [--bf16 0|1] "
               "[--profile N] [--profile-shapes 0|1] [--device cpu|cuda|cuda:N|auto] | "
               "--peak N | --print-coretype\n(--cstde-rank R > 0: CSTDE dependency-weighted attention of rank R, with carry;\n"
               " --bf16 1: the forward under bf16 autocast, as train.precision bf16 runs it;\n"
               " --device D: where the model, batch and optimizer live (default cpu; cuda for a GPU: each step\n"
               "   ends in loss.item(), a device sync, so the timing covers the GPU's work);\n"
               " --profile N: after the timed steps, N more steps under torch's profiler, and a table of self CPU\n"
               "   time per op on stderr;\n"
               " --profile-shapes 1: that table split by the ops' input shapes (which copy is the costly one);\n"
               " --peak N: instead, this machine's fp32 and bf16 matrix-product rates on N x N matrices)\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--print-coretype") {
      o.print_coretype = true;
      continue;
    }
    if (a == "--device") {
      if (i + 1 >= argc) usage("--device needs a value");
      o.device = argv[++i];
      continue;
    }
    if (a.rfind("--", 0) != 0 || !o.v.count(a.substr(2)) || i + 1 >= argc) usage(("bad argument " + a).c_str());
    char* end = nullptr;
    long n = std::strtol(argv[++i], &end, 10);
    if (*end || n < 0) usage(("bad value for " + a).c_str());
    o.v[a.substr(2)] = n;
  }
  return o;
}

// The BLAS library this process loaded (path from /proc/self/maps): the benchmark's numbers mean
// little without it (reference BLAS is ~25x slower than OpenBLAS for the same model).
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash != std::string::npos && line.find("blas", slash) != std::string::npos) return line.substr(slash);
  }
  return "";
}

// GFLOP/s of an n x n x n matrix product in `dtype`, repeated for about a second after one
// warm-up product: the peak that MFU is measured against.
double matmul_gflops(torch::ScalarType dtype, long n) {
  const auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype);
  torch::mm(a, b);
  long reps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double s = 0;
  do {
    torch::mm(a, b);
    ++reps;
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (s < 1.0);
  return 2.0 * double(n) * double(n) * double(n) * double(reps) / s / 1e9;
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Self CPU time per op name over the events torch's (legacy) profiler recorded: each op's
// elapsed time less that of the ops it called (each thread's ranges nest), summed by name,
// printed to stderr as the top `rows`, with a share of the total and the matrix products' sum.
// `by_shape`: one row per op name and input shapes (the profiler must have recorded them).
void print_profile(const torch::autograd::profiler::thread_event_lists& threads, std::size_t rows, bool by_shape) {
  using torch::autograd::profiler::EventKind;
  using torch::autograd::profiler::LegacyEvent;
  struct Open {
    const LegacyEvent* push;
    double children_us;
  };
  std::map<std::string, std::pair<double, long>> self;  // name -> (self us, calls)
  double total = 0;
  for (const auto& events : threads) {
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double elapsed = open.push->cpuElapsedUs(e);
        std::string key = open.push->name();
        if (by_shape) {
          key += " ";
          for (const auto& shape : open.push->shapes()) {
            key += "[";
            for (std::size_t d = 0; d < shape.size(); ++d) key += (d ? "," : "") + std::to_string(shape[d]);
            key += "]";
          }
        }
        auto& [us, calls] = self[key];
        us += elapsed - open.children_us;
        ++calls;
        if (stack.empty()) total += elapsed;
        else stack.back().children_us += elapsed;
      }
    }
  }
  std::vector<std::pair<std::string, std::pair<double, long>>> sorted(self.begin(), self.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  double matmul = 0;
  for (const auto& [key, v] : sorted) {
    const std::string name = key.substr(0, key.find(' '));
    if (name == "aten::mm" || name == "aten::addmm" || name == "aten::bmm" || name == "aten::baddbmm") matmul += v.first;
  }
  const int width = by_shape ? 110 : 70;  // an op's name with its input shapes runs long
  std::fprintf(stderr, "%-*s %10s %7s %7s\n", width, "op (self CPU time)", "ms", "share", "calls");
  for (std::size_t i = 0; i < std::min(rows, sorted.size()); ++i)
    std::fprintf(stderr, "%-*.*s %10.1f %6.1f%% %7ld\n", width, width, sorted[i].first.c_str(),
                 sorted[i].second.first / 1e3, 100.0 * sorted[i].second.first / total, sorted[i].second.second);
  std::fprintf(stderr, "total %.1f ms; matrix products (mm, addmm, bmm, baddbmm) %.1f%%\n", total / 1e3, 100.0 * matmul / total);
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);  // first: may re-exec with OPENBLAS_CORETYPE set
  const Options o = parse(argc, argv);
  const char* env_core = std::getenv("OPENBLAS_CORETYPE");
  const std::string coretype = env_core ? env_core : "";
  if (o.print_coretype) {
    // What structlm runs with: the variable if set (by the user or by our re-exec), else our pick.
    std::printf("%s\n", env_core ? env_core : best_openblas_coretype());
    return 0;
  }
  auto opt = [&](const char* k) { return o.v.at(k); };
  const int threads = model::init_threads((int)opt("threads"));
  if (opt("peak") > 0) {
    std::printf("{\"impl\": \"peak\", \"n\": %ld, \"threads\": %d, \"fp32_gflops\": %.1f, \"bf16_gflops\": %.1f}\n",
                opt("peak"), threads, matmul_gflops(torch::kFloat, opt("peak")), matmul_gflops(torch::kBFloat16, opt("peak")));
    return 0;
  }

  model::GPTConfig c;
  c.n_layer = opt("layers"), c.n_head = opt("heads"), c.n_embd = opt("embd");
  c.vocab_size = opt("vocab"), c.block_size = opt("T");
  c.dropout = 0.0, c.bias = true, c.tied = true;
  if (opt("cstde-rank") > 0) c.cstde.attention = true, c.cstde.rank = opt("cstde-rank");
  torch::manual_seed(opt("seed"));
  model::GPT m = zoo::make_gpt(c);
  torch::Device device = torch::kCPU;
  try {
    device = model::resolve_device(o.device);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  m->to(device);  // before the optimizer takes the parameters
  m->train();

  // The trainer's own update (train/optimizer.h): gradient clipping at global norm 1 and AdamW,
  // decay on matrices only, as nanoGPT and the peer (train_bench.py) do.
  std::map<const void*, std::string> names;
  for (const auto& kv : m->named_parameters()) names[kv.value().unsafeGetTensorImpl()] = kv.key();
  train::AdamWOptions ao;
  ao.beta1 = 0.9, ao.beta2 = 0.95, ao.eps = 1e-8, ao.weight_decay = 0.1;
  train::AdamW adamw(m->decay_params(), m->no_decay_params(), names, ao);
  const auto all_params = m->parameters();

  const std::int64_t B = opt("batch"), T = opt("T");
  // Drawn on the CPU whatever the device, so every device trains on the same tokens.
  const auto x = torch::randint(c.vocab_size, {B, T}, torch::kLong).to(device);
  const auto y = torch::randint(c.vocab_size, {B, T}, torch::kLong).to(device);
  double last_loss = 0;
  auto step = [&] {
    adamw.zero_grad();
    torch::Tensor loss;
    {
      model::AutocastGuard autocast(opt("bf16") ? model::Precision::bf16 : model::Precision::fp32, device);
      loss = m->loss(x, y);
    }
    loss.backward();
    adamw.step(6e-4, train::clip_scale(train::global_grad_norm(all_params), 1.0));
    last_loss = loss.item<double>();
  };

  for (long i = 0; i < opt("warmup"); ++i) step();
  std::vector<double> rates;
  const long faults_before = minor_faults();
  for (long r = 0; r < opt("repeats"); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < opt("steps"); ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(double(opt("steps") * B * T) / s);
  }
  const double timed_faults = double(minor_faults() - faults_before) / double(std::max(1L, opt("repeats") * opt("steps")));
  if (opt("profile") > 0) {
    const long f0 = minor_faults();
    torch::autograd::profiler::enableProfilerLegacy(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, opt("profile-shapes") != 0));
    for (long i = 0; i < opt("profile"); ++i) step();
    print_profile(torch::autograd::profiler::disableProfilerLegacy(), opt("profile-shapes") ? 45 : 30, opt("profile-shapes") != 0);
    // The legacy profiler's own allocations split glibc's heap, so profiled steps fault in fresh
    // pages (measured: ~36,000 per step of the demo-size model, against none unprofiled), and
    // ops that write large new tensors (log-softmax over the vocabulary, fill, copies) read several
    // times slower than they run. Time a suspect op alone (bench/ops_bench) before acting on it.
    std::fprintf(stderr, "page faults per step: %.0f profiled, %.0f timed (profiled shares of ops writing new memory are inflated when these differ)\n",
                 double(minor_faults() - f0) / double(opt("profile")), timed_faults);
  }
  auto sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n == 0 ? 0 : (sorted[(n - 1) / 2] + sorted[n / 2]) / 2;

  std::printf("{\"impl\": \"structlm\", \"tokens_per_s\": [");
  for (std::size_t i = 0; i < rates.size(); ++i) std::printf("%s%.1f", i ? ", " : "", rates[i]);
  std::printf("], \"median\": %.1f, \"threads\": %d, \"coretype\": \"%s\", \"blas\": \"%s\", \"params\": %lld, \"last_loss\": %.4f, \"peak_rss_mib\": %.1f, \"precision\": \"%s\", \"device\": \"%s\"}\n",
              median, threads, coretype.c_str(), loaded_blas().c_str(), (long long)m->num_params(), last_loss,
              peak_rss_mib(), opt("bf16") ? "bf16" : "fp32", device.str().c_str());
  return 0;
}
