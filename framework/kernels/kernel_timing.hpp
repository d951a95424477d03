#pragma once
// Kernel timing: wall time spent inside oneDNN primitives, split into compute and reorders,
// for `convoy bench` (framework overhead = step time - time inside primitives), and the part of
// compute that ran in oneDNN's reference loops (no optimized implementation for the shape on
// this ISA). Off by default; when off it costs one branch per primitive.

#include <cstdint>

namespace convoy::kernels {

struct KernelTiming {
  double compute_seconds = 0;
  double reorder_seconds = 0;
  int64_t compute_calls = 0;
  int64_t reorder_calls = 0;
  double reference_seconds = 0;  // part of compute_seconds
  int64_t reference_calls = 0;
};

void set_kernel_timing(bool enabled);
KernelTiming kernel_timing();
void reset_kernel_timing();

}  // namespace convoy::kernels
