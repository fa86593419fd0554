// gtest main for every test binary: selects OpenBLAS's fast kernels first (see core/platform.h),
// so torch tests run at the speed users get.
#include <gtest/gtest.h>

#include "core/platform.h"

int main(int argc, char** argv) {
  structlm::ensure_fast_blas(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
