// HCMA alignment at GPT-2 small's shape (docs/HCMA.md, issue target: a 50,257 x 768 table in
// <= 10 minutes on the 2-core machine, without O(V^2) memory). A synthetic GPT of that shape
// (12 layers, 12 heads, width 768, context 1024, random GPT-2 init) and a synthetic Zipf
// calibration stream; the whole `align_embeddings` pipeline: statistics, hierarchy, candidate
// neighbourhoods, the Adam loop. Prints each stage's time, peak RSS, the ratio of the wall time to
// the 10-minute target and of the peak RSS to the dense V x V float matrix the design avoids.
// Usage: hcma_align_bench [--vocab N] [--width N] [--layers N] [--context N] [--calib-tokens N]
//                         [--steps N] [--threads N]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "hcma/align.h"
#include "core/platform.h"
#include "core/rng.h"
#include "data/shard.h"
#include "model/runtime.h"

using namespace structlm;

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);
  std::map<std::string, double> o = {{"vocab", 50257}, {"width", 768},  {"layers", 12}, {"context", 1024},
                                     {"calib-tokens", 200000}, {"steps", 300}, {"threads", 2}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || !o.count(k.substr(2))) {
      std::fprintf(stderr, "hcma_align_bench: unknown option %s\n", argv[i]);
      return 2;
    }
    o[k.substr(2)] = std::atof(argv[i + 1]);
  }
  const int threads = model::init_threads(int(o["threads"]));
  model::GPTConfig c;
  c.vocab_size = std::int64_t(o["vocab"]);
  c.n_embd = std::int64_t(o["width"]);
  c.n_layer = std::int64_t(o["layers"]);
  c.n_head = c.n_embd / 64;
  c.block_size = std::int64_t(o["context"]);
  torch::manual_seed(1);
  model::GPT net(c);
  net->eval();

  // Zipf(1) over the vocabulary, as natural text is: a head of frequent tokens, a long tail seen
  // a few times or never, which is what the hierarchy and the rare-token smoothing are for.
  const std::size_t n = std::size_t(o["calib-tokens"]);
  std::vector<double> cdf(std::size_t(c.vocab_size));
  double acc = 0;
  for (std::size_t i = 0; i < cdf.size(); ++i) cdf[i] = acc += 1.0 / double(i + 1);
  SplitMix64 rng(7);
  std::vector<std::uint32_t> ids(n);
  for (auto& id : ids)
    id = std::uint32_t(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform() * acc) - cdf.begin());
  const auto shard = (std::filesystem::temp_directory_path() / "structlm_hcma_bench.bin").string();
  data::write_shard(shard, ids, std::size_t(c.vocab_size));
  data::TokenStream calib({shard});

  hcma::AlignOptions a;
  a.loop.steps = int(o["steps"]);
  a.loop.log_every = 25;
  std::printf("hcma_align_bench: V %lld, d %lld, %lld layers, context %lld, %zu calibration tokens, %d steps, %d threads\n",
              (long long)c.vocab_size, (long long)c.n_embd, (long long)c.n_layer, (long long)c.block_size, n, a.loop.steps, threads);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = hcma::align_embeddings(net, calib, a);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::filesystem::remove(shard);

  const auto& t = r.report["time_s"];
  const double loop = wall - t["statistics"].get<double>() - t["hierarchy"].get<double>() - t["neighbours"].get<double>();
  const double rss = peak_rss_mib(), dense = double(c.vocab_size) * double(c.vocab_size) * 4 / (1024.0 * 1024.0);
  std::printf("statistics %.1f s | hierarchy %.1f s | neighbourhoods %.1f s | Adam loop %.1f s (%.2f s/step)\n",
              t["statistics"].get<double>(), t["hierarchy"].get<double>(), t["neighbours"].get<double>(), loop,
              loop / a.loop.steps);
  std::printf("loop: HCMA terms and their gradients %.1f s, Adam %.1f s\n", t["loop"]["gradients"].get<double>(),
              t["loop"]["adam"].get<double>());
  std::printf("clustered tokens %lld, leaves %lld, tokens with candidates %lld\n",
              (long long)r.report["hierarchy"]["clustered_tokens"].get<std::int64_t>(),
              (long long)r.report["hierarchy"]["levels"].back()["clusters"].get<std::int64_t>(),
              (long long)r.report["tokens_with_neighbours"].get<std::int64_t>());
  std::printf("wall %.1f s = %.3f x the 10-minute target | peak RSS %.0f MiB = %.3f x a dense V x V float matrix (%.0f MiB)\n",
              wall, wall / 600.0, rss, rss / dense, dense);
  return 0;
}
