// The speed fix users never see: a torch binary that loads OpenBLAS must be running with the
// core type picked from cpuid (core/platform.h re-executes before main's real work).
#include <gtest/gtest.h>

#include <cstdlib>
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
