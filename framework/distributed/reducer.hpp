#pragma once
// Reducer: sums gradients over ranks while backward is still running. Buckets are launched as
// non-blocking allreduces the moment their last gradient is ready; finalize() is the only wait.

#include <cstdint>
#include <span>
#include <vector>

#include "framework/common/timeline.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/distributed/gradient_bucket.hpp"
#include "framework/graph/named_tensors.hpp"

namespace convoy {

struct ReducerOptions {
  int64_t bucket_bytes = 25 * 1024 * 1024;  // PyTorch DDP's default bucket_cap_mb
  bool compress_bf16 = false;               // allreduce in bf16, summed in fp32 by a custom op
};

// What one step's communication cost and how much of it backward hid.
struct ReducerTiming {
  double communication_seconds = 0;  // first launch to last completion
  double exposed_seconds = 0;        // time finalize() waited
  double hidden_fraction() const {
    return communication_seconds > 0 ? 1.0 - exposed_seconds / communication_seconds : 1.0;
  }
};

class Reducer {
 public:
  Reducer(Communicator& communicator, std::vector<NamedParameter> parameters,
          ReducerOptions options = {});
  ~Reducer();
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  void start_step();
  // Called by Net::backward as each layer writes its parameter gradients.
  void gradients_ready(std::span<const int> parameter_indices);
  // Launches what is left, waits for every bucket; afterwards each gradient is the sum over
  // ranks, bit-identical on every rank.
  void finalize();

  // With a timeline, each bucket's allreduce is a span on the "allreduce" lane from launch to
  // the moment its completion was seen, and finalize()'s wait one on "compute" (convoy bench
  // --trace). The timeline must outlive the Reducer or be unset with nullptr.
  void set_timeline(Timeline* timeline) { timeline_ = timeline; }

  const std::vector<GradientBucket>& buckets() const { return buckets_; }
  const ReducerTiming& last_timing() const { return timing_; }

 private:
  void launch_ready_buckets();
  void launch(GradientBucket& bucket);
  void complete(GradientBucket& bucket);
  void poll();
  void record_completion(size_t bucket_index, Timeline::Clock::time_point now);

  Communicator& communicator_;
  std::vector<NamedParameter> parameters_;
  ReducerOptions options_;
  std::vector<GradientBucket> buckets_;
  std::vector<int> bucket_of_;  // parameter index -> bucket
  std::vector<char> ready_;     // per parameter, this step
  size_t next_to_launch_ = 0;   // buckets launch strictly in order: the same order on all ranks
  MPI_Op bf16_sum_ = MPI_OP_NULL;
  ReducerTiming timing_;
  Timeline::Clock::time_point first_launch_{};  // the epoch value: nothing launched this step
  Timeline* timeline_ = nullptr;
};

}  // namespace convoy
