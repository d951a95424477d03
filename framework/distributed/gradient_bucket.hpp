#pragma once
// GradientBucket: a run of parameters whose gradients are allreduced together (PyTorch DDP's
// bucket, Horovod's fusion buffer). Formed once, in the order backward produces gradients.

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace convoy {

struct GradientBucket {
  std::vector<int> parameters;  // indices into the parameter list, in backward order
  int64_t elements = 0;
  // When the gradients lie back to back in memory (the Net's arena), the allreduce runs in
  // place on [contiguous_begin, +elements); otherwise they are packed into `fusion`.
  float* contiguous_begin = nullptr;
  std::vector<float> fusion;
  std::vector<uint16_t> compressed;  // bf16 copy when compression is on
  int pending = 0;                   // gradients not yet ready this step
  bool launched = false;
  MPI_Request request = MPI_REQUEST_NULL;
  // When the allreduce was launched and when its completion was seen (timing and the timeline).
  std::chrono::steady_clock::time_point launched_at, completed_at;
};

}  // namespace convoy
