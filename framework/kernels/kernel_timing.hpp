#pragma once
// Kernel timing: wall time spent inside oneDNN primitives, split into compute and reorders, and
// in the kernel layer's own loops (Winograd transforms, im2col, the normalizations it computes
// itself), for `convoy bench` (framework overhead = step time - time inside kernels), and the
// part of compute that ran in oneDNN's reference loops (no optimized implementation for the
// shape on this ISA). Off by default; when off it costs one branch per primitive or loop.

#include <chrono>
#include <cstdint>

namespace convoy::kernels {

struct KernelTiming {
  double compute_seconds = 0;
  double reorder_seconds = 0;
  int64_t compute_calls = 0;
  int64_t reorder_calls = 0;
  double reference_seconds = 0;  // part of compute_seconds
  int64_t reference_calls = 0;
  double own_loop_seconds = 0;  // kernel compute outside oneDNN, not part of compute_seconds
  int64_t own_loop_calls = 0;
};

// Times one of the kernel layer's own loops while it is in scope (when timing is on). Scopes
// must not nest and must not enclose a primitive, which is timed on its own.
class OwnLoopTimer {
 public:
  OwnLoopTimer();
  ~OwnLoopTimer();
  OwnLoopTimer(const OwnLoopTimer&) = delete;
  OwnLoopTimer& operator=(const OwnLoopTimer&) = delete;

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

void set_kernel_timing(bool enabled);
KernelTiming kernel_timing();
void reset_kernel_timing();

}  // namespace convoy::kernels
