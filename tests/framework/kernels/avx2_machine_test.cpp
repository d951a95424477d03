// tests/CMakeLists.txt runs the tests of the ISA-dependent kernel paths a second time as an
// AVX2-only machine (Zen 3) runs them, under ONEDNN_MAX_CPU_ISA=AVX2 ("avx2." tests): oneDNN's
// AVX2 kernels and their 8-channel blocked layouts, the lowering rules' AVX2 choices (Winograd
// from 16 channels, its batched matmuls from 64, im2col on small maps) and, set here, convoy's
// eight-lane loops instead of the AVX-512 ones. On an AVX-512 machine nothing else in the suite
// runs those paths against their references.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "framework/kernels/context.hpp"

namespace convoy {
namespace {

bool avx2_machine_requested() {
  const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA");
  return isa != nullptr && std::string(isa) == "AVX2";
}

// Before any test runs: convoy's own loops follow the ISA oneDNN is held to.
[[maybe_unused]] const bool eight_lanes_only = [] {
  if (avx2_machine_requested()) kernels::allow_wide_lanes(false);
  return true;
}();

TEST(Avx2MachineTest, OneDnnAndConvoysLoopsRunAvx2UnderOnednnMaxCpuIsa) {
  if (!avx2_machine_requested()) GTEST_SKIP() << "ONEDNN_MAX_CPU_ISA is not AVX2";
  EXPECT_EQ(std::string(kernels::cpu_isa_name()), "avx2");
  EXPECT_FALSE(kernels::wide_lanes_in_use());
}

}  // namespace
}  // namespace convoy
