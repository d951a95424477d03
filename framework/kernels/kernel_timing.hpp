#pragma once
// Kernel timing: wall time spent inside oneDNN primitives, split into compute and reorders,
// for `convoy bench` (framework overhead = step time - time inside primitives). Off by default;
// when off it costs one branch per primitive.

#include <cstdint>

namespace convoy::kernels {

struct KernelTiming {
  double compute_seconds = 0;
  double reorder_seconds = 0;
  int64_t compute_calls = 0;
  int64_t reorder_calls = 0;
};

void set_kernel_timing(bool enabled);
KernelTiming kernel_timing();
void reset_kernel_timing();

}  // namespace convoy::kernels
