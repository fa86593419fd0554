#include "core/platform.h"

#include <sched.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace structlm {

const char* best_openblas_coretype() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (__builtin_cpu_supports("avx512f")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2")) return "Haswell";
#endif
  return "";
}

static bool mapped(const char* name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(name) != std::string::npos) return true;
  return false;
}

void reuse_freed_memory() {
#if defined(__GLIBC__)
  for (const char* v : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
    if (std::getenv(v)) return;  // the user's own malloc settings win
  // No mmap'd blocks: every size comes from the heap, where a freed block is reused. glibc falls
  // back to mmap by itself if the heap cannot grow.
  ::mallopt(M_MMAP_MAX, 0);
  // Never hand the heap's free top back to the kernel (the next step needs it again).
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

void ensure_fast_blas(int argc, char** argv) {
  (void)argc;
  reuse_freed_memory();
  if (std::getenv("STRUCTLM_NO_BLAS_FIX")) return;
  // Debian's libtorch depends on "a BLAS"; if only the reference implementation is installed it is
  // what we get, and training is an order of magnitude slower. Say so once, with the fix.
  if (!mapped("openblas") && mapped("/blas/libblas.so"))
    std::fprintf(stderr,
                 "structlm: warning: the system BLAS is Debian's slow reference implementation; "
                 "install OpenBLAS (apt-get install libopenblas0-pthread, or run scripts/setup.sh)\n");
  bool changed = false;
  if (!std::getenv("OPENBLAS_CORETYPE") && mapped("openblas")) {
    const char* core = best_openblas_coretype();
    if (*core) changed |= ::setenv("OPENBLAS_CORETYPE", core, 1) == 0;
  }
  // torch's OpenMP workers spin after each parallel region by default, taking the cores that
  // OpenBLAS's own threads need for the next matmul: measured on the demo model with 2 threads,
  // 1,480 tokens/s spinning vs 2,300-2,650 passive. libgomp also reads this only at load time.
  if (!std::getenv("OMP_WAIT_POLICY") && mapped("libgomp")) changed |= ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0;
  if (!changed) return;
  ::execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the slow kernels rather than fail.
  std::fprintf(stderr, "structlm: warning: could not re-exec to select OpenBLAS kernels (%s)\n",
               std::strerror(errno));
}

std::vector<std::string> cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0 || line.find(':') == std::string::npos) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::vector<std::string> flags;
    for (std::string w; words >> w;) flags.push_back(w);
    return flags;
  }
  return {};
}

bool cpu_has_flag(const std::string& flag) {
  static const std::vector<std::string> flags = cpu_flags();  // read once: the CPU does not change
  for (const auto& f : flags)
    if (f == flag) return true;
  return false;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
  return 0.0;
}

}  // namespace structlm
