#pragma once
// The machine's attainable throughput, measured with a large oneDNN matmul: the yardstick that
// `convoy bench` divides a training step's achieved GFLOP/s by.

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct PeakThroughput {
  double gflops = 0;  // median over repetitions, in 10^9 multiply-adds x 2 per second
  int64_t matrix_size = 0;
  int repetitions = 0;
};

// Runs an n x n x n matmul in the given data type on the current thread count.
PeakThroughput measure_peak_throughput(DataType type, int64_t n = 2048, int repetitions = 7);

}  // namespace convoy::kernels
