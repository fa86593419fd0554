// CSTDE structured embedding initialisation at GPT-2 scale: synthetic Zipf tokens over V = 50257
// (documents of random length, each opened by EOT), counted once, then PPMI and randomized SVD
// for each requested width. Prints wall time per stage, nonzeros, peak RSS and the dense V×V
// memory the sparse path avoids. --compare-torch also times one A·X product with torch's sparse
// COO (and CSR) matmul against structlm's CSR kernel on the same PPMI matrix.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/platform.h"
#include "core/rng.h"
#include "data/cooccurrence.h"
#include "model/runtime.h"
#include "cstde/structured_init.h"

using namespace structlm;

namespace {

struct Options {
  std::map<std::string, double> v = {{"tokens", 100e6}, {"vocab", 50257}, {"zipf", 1.0},  {"window", 8},
                                     {"doc", 1000},     {"threads", 2},   {"seed", 1},    {"power-iters", 2},
                                     {"oversample", 10}};
  std::vector<long> dims = {768, 256};
  bool compare_torch = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "structured_init_bench: %s\nusage: structured_init_bench [--tokens N] [--vocab N] [--zipf S] "
               "[--window N] [--doc MEAN_LEN] [--threads N] [--seed N] [--power-iters N] [--oversample N] "
               "[--dims 768,256] [--compare-torch]\n",
               why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--compare-torch") {
      o.compare_torch = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage("bad argument " + a);
    std::string val = argv[++i], key = a.substr(2);
    if (key == "dims") {
      o.dims.clear();
      for (std::size_t p = 0; p < val.size();) {
        std::size_t q = val.find(',', p);
        o.dims.push_back(std::stol(val.substr(p, q - p)));
        p = q == std::string::npos ? val.size() : q + 1;
      }
      continue;
    }
    if (!o.v.count(key)) usage("unknown option " + a);
    char* end = nullptr;
    o.v[key] = std::strtod(val.c_str(), &end);
    if (*end || o.v[key] < 0) usage("bad value for " + a);
  }
  return o;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Token ranks drawn ∝ 1/rank^s, mapped to ids by a fixed random permutation (as in a BPE
// vocabulary, frequent tokens are not all at small ids); EOT = V − 1 opens each document.
std::vector<std::uint32_t> zipf_corpus(std::size_t n, std::uint32_t V, double s, double mean_doc, std::uint64_t seed) {
  SplitMix64 rng(seed);
  const std::uint32_t types = V - 1;
  std::vector<double> cdf(types);
  double z = 0;
  for (std::uint32_t r = 0; r < types; ++r) cdf[r] = (z += std::pow(r + 1.0, -s));
  std::vector<std::uint32_t> id(types);
  for (std::uint32_t r = 0; r < types; ++r) id[r] = r;
  shuffle(id, rng);
  std::vector<std::uint32_t> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 0 || rng.uniform() * mean_doc < 1.0) {
      x[i] = V - 1;
      continue;
    }
    x[i] = id[std::lower_bound(cdf.begin(), cdf.end(), rng.uniform() * z) - cdf.begin()];
  }
  return x;
}

void compare_with_torch(const linalg::CsrMatrix& m, std::int64_t l) {
  auto x = torch::randn({m.cols, l});
  auto out = torch::empty({m.rows, l});
  auto t = std::chrono::steady_clock::now();
  linalg::csr_times_dense(m, x.data_ptr<float>(), l, out.data_ptr<float>(), false);
  const double own = since(t);
  std::printf("  A·X, A %lld×%lld with %zu nonzeros, X with %lld columns:\n    structlm CSR kernel: %.2f s\n",
              (long long)m.rows, (long long)m.cols, m.nnz(), (long long)l, own);
  std::fflush(stdout);
  auto indptr = torch::from_blob(const_cast<std::int64_t*>(m.indptr.data()), {m.rows + 1}, torch::kInt64);
  auto cols = torch::from_blob(const_cast<std::int32_t*>(m.indices.data()), {(std::int64_t)m.nnz()}, torch::kInt32).to(torch::kInt64);
  auto vals = torch::from_blob(const_cast<float*>(m.values.data()), {(std::int64_t)m.nnz()}, torch::kFloat32);
  {
    auto rows = torch::repeat_interleave(indptr.diff());
    auto coo = torch::sparse_coo_tensor(torch::stack({rows, cols}), vals, {m.rows, m.cols}).coalesce();
    t = std::chrono::steady_clock::now();
    auto y = torch::mm(coo, x);
    const double s = since(t);
    std::printf("    torch sparse COO mm: %.2f s (max |diff| %.2e)\n", s, (y - out).abs().max().item<double>());
    std::fflush(stdout);
  }
  try {
    auto csr = torch::sparse_csr_tensor(indptr, cols, vals, {m.rows, m.cols}, torch::kFloat32);
    t = std::chrono::steady_clock::now();
    auto y = torch::mm(csr, x);
    const double s = since(t);
    std::printf("    torch sparse CSR mm: %.2f s (max |diff| %.2e)\n", s, (y - out).abs().max().item<double>());
  } catch (const std::exception& e) {
    std::printf("    torch sparse CSR mm: not available (%.100s)\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas(argc, argv);
  const Options o = parse(argc, argv);
  auto opt = [&](const char* k) { return o.v.at(k); };
  const int threads = model::init_threads(int(opt("threads")));
  const auto V = static_cast<std::uint32_t>(opt("vocab"));
  const auto n = static_cast<std::size_t>(opt("tokens"));

  auto t = std::chrono::steady_clock::now();
  auto x = zipf_corpus(n, V, opt("zipf"), opt("doc"), std::uint64_t(opt("seed")));
  std::printf("corpus: %zu Zipf(%.2f) tokens over V = %u, mean document %.0f tokens, %d threads (generated in %.1f s, "
              "%.0f MiB held in memory)\n",
              n, opt("zipf"), V, opt("doc"), threads, since(t), n * 4.0 / 1048576);
  std::fflush(stdout);

  data::CooccurrenceOptions co;
  co.window = int(opt("window"));
  co.eot = V - 1;
  co.threads = threads;
  t = std::chrono::steady_clock::now();
  auto counts = data::count_cooccurrences(x.data(), x.size(), V, co);
  const double count_s = since(t);
  std::vector<std::uint32_t>().swap(x);
  std::printf("count:  %.1f s, %llu pair updates, %zu distinct pairs (CSR %.0f MiB), peak RSS %.0f MiB\n", count_s,
              (unsigned long long)counts.pairs, counts.left.nnz(), counts.left.bytes() / 1048576.0, peak_rss_mib());
  std::printf("dense V×V float32 avoided: %.2f GB per matrix (C_left, C_right, PPMI_left, PPMI_right)\n",
              double(V) * V * 4 / 1e9);
  std::fflush(stdout);

  if (o.compare_torch) {
    auto p = cstde::ppmi(counts.left, 0.75);
    compare_with_torch(p, o.dims.empty() ? 266 : o.dims.back() + long(opt("oversample")));
  }

  for (std::size_t i = 0; i < o.dims.size(); ++i) {
    const long d = o.dims[i];
    cstde::StructuredInitOptions so;
    so.window = co.window;
    so.eot = co.eot;
    so.oversample = int(opt("oversample"));
    so.power_iters = int(opt("power-iters"));
    cstde::StructuredInitStats st;
    auto random_init = torch::randn({V, d}) * so.init_std;
    // The last width consumes the counts; earlier ones work on a copy.
    data::Cooccurrence c = (i + 1 == o.dims.size()) ? std::move(counts) : counts;
    t = std::chrono::steady_clock::now();
    auto e = cstde::structured_embedding_from_counts(std::move(c), random_init, so, std::uint64_t(opt("seed")), &st);
    std::printf("d = %ld: PPMI %.1f s (%lld + %lld positive), SVD %.1f s (%.1f s in sparse products; rank %ld, oversample %d, %d power "
                "iterations), total with counting %.1f s; %lld rows structured, %lld random; sigma_1 %.1f, "
                "sigma_d %.2f; peak RSS so far %.0f MiB\n",
                d, st.seconds_ppmi, (long long)st.nnz_ppmi_left, (long long)st.nnz_ppmi_right, st.seconds_svd, st.seconds_svd_products, d,
                so.oversample, so.power_iters, count_s + since(t), (long long)st.rows_structured,
                (long long)st.rows_random, st.singular_values.front(), st.singular_values.back(), st.peak_rss_mib);
    std::fflush(stdout);
  }
  return 0;
}
