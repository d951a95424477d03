#pragma once
// Measurements of the link and of the allreduce on it, for `convoy bench-allreduce`: how close
// the allreduce comes to the bandwidth bound 2(p-1)/p * N / B of a ring (Patarasuk & Yuan 2009),
// with B the point-to-point bandwidth measured on the same link in the same run.

#include <cstdint>

#include "framework/distributed/communicator.hpp"

namespace convoy {

// Median one-way bandwidth (bytes/s) between rank 0 and rank 1 by ping-pong of `bytes`;
// the other ranks wait. The result is known on every rank. Needs at least two ranks.
double measure_link_bandwidth(Communicator& communicator, int64_t bytes, int repetitions);

// Median seconds of an MPI_Allreduce (sum) of `floats` fp32 values, as seen by rank 0 after a
// barrier on every repetition (the slowest rank decides, as in training). Known on every rank.
double measure_allreduce_seconds(Communicator& communicator, int64_t floats, int repetitions);

// The ring lower bound for an allreduce of `bytes` on `ranks` ranks over a link of
// `bandwidth` bytes/s: every rank sends and receives 2(p-1)/p of the buffer.
inline double allreduce_bandwidth_bound_seconds(int64_t bytes, int ranks, double bandwidth) {
  if (ranks < 2 || bandwidth <= 0) return 0;
  return 2.0 * (ranks - 1) / ranks * static_cast<double>(bytes) / bandwidth;
}

}  // namespace convoy
