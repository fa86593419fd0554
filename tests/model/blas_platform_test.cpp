// The speed fixes users never see: a torch binary that loads OpenBLAS must be running with the
// core type picked from cpuid (core/platform.h re-executes before main's real work).
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/platform.h"

static bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(name) != std::string::npos) return true;
  return false;
}

TEST(BlasPlatform, TorchUsesOpenBlasWithAFastCoreType) {
  if (!mapped("openblas")) {
    ASSERT_FALSE(mapped("/blas/libblas.so")) << "torch is using Debian's reference BLAS: install libopenblas0-pthread";
    GTEST_SKIP() << "torch is not linked against OpenBLAS here (another BLAS): nothing to select";
  }
  if (std::getenv("STRUCTLM_NO_BLAS_FIX")) GTEST_SKIP() << "STRUCTLM_NO_BLAS_FIX is set";
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  ASSERT_NE(set, nullptr) << "ensure_fast_blas did not set OPENBLAS_CORETYPE";
  if (*structlm::best_openblas_coretype()) EXPECT_STRNE(set, "");
}

// reuse_freed_memory (called by ensure_fast_blas in this binary's main): a large block freed and
// allocated again comes back without page faults. glibc's default maps it afresh and faults in
// every 4 KiB page again (24,576 faults for these 96 MiB), which is what made a training step pay
// for page faults on every large tensor.
static long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

TEST(BlasPlatform, FreedLargeBlocksAreReusedWithoutPageFaults) {
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  GTEST_SKIP() << "another allocator than glibc's malloc (sanitizer or C library)";
#endif
  for (const char* v : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
    if (std::getenv(v)) GTEST_SKIP() << v << " is set: the user's malloc settings are kept";
  const std::size_t n = std::size_t(96) << 20;
  char* volatile first = static_cast<char*>(std::malloc(n));
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, n);
  std::free(first);
  const long before = minor_faults();
  char* volatile again = static_cast<char*>(std::malloc(n));
  ASSERT_NE(again, nullptr);
  std::memset(again, 2, n);
  const long faults = minor_faults() - before;
  std::free(again);
  EXPECT_LT(faults, 1000) << "the second 96 MiB block was faulted in again page by page";
}
