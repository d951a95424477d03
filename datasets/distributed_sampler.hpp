#pragma once
// Which samples each rank reads at each global step, for training and for evaluation.
//
// Why it works this way:
// 1. The epoch permutation is a pure function of (seed, epoch), made with std::mt19937_64 and
//    our own Fisher-Yates (std::shuffle's algorithm is implementation-defined), so every rank
//    computes the same permutation without communicating, on any standard library.
// 2. Global step g covers permutation positions [g * global_batch, (g + 1) * global_batch) and
//    rank r takes the r-th contiguous slice of per_rank_batch positions. The global sample order
//    therefore depends only on the global batch, not on how it is split: a run checkpointed on
//    4 ranks x 32 resumes on 2 ranks x 64 at the same step and sees the same samples (elastic
//    resume).
// 3. The last incomplete global batch is dropped by default (every step has full batches, as
//    batch-norm statistics and the LR schedule assume); with drop_last = false it is completed
//    by wrapping around to the start of the same permutation, as PyTorch's DistributedSampler
//    pads.
// 4. Evaluation never pads: eval_indices splits [0, N) into contiguous, disjoint, near-equal
//    ranges, so per-rank correct counts summed over ranks are exact.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace convoy::data {

// Epoch permutations, per-step per-rank index slices and evaluation shards.
class DistributedSampler {
 public:
  // ConfigError for dataset_size < 1, world_size < 1 or rank outside [0, world_size).
  DistributedSampler(int64_t dataset_size, int world_size, int rank, uint64_t seed,
                     bool shuffle = true, bool drop_last = true);

  int64_t dataset_size() const { return dataset_size_; }
  int world_size() const { return world_size_; }
  int rank() const { return rank_; }

  // The order of all samples in `epoch` (identity when shuffle is off).
  std::vector<int64_t> permutation(int64_t epoch) const;
  // Global steps in one epoch for global batch = per_rank_batch * world_size; ConfigError when
  // that is zero (the dataset is smaller than one global batch and drop_last is on).
  int64_t batches_per_epoch(int64_t per_rank_batch) const;
  // This rank's per_rank_batch sample indices for global step `step_in_epoch`; ConfigError
  // for a step outside [0, batches_per_epoch).
  std::vector<int64_t> indices_for_step(int64_t epoch, int64_t step_in_epoch,
                                        int64_t per_rank_batch) const;
  // Rank `rank`'s evaluation shard: a contiguous range, disjoint from the others, all of them
  // together covering [0, dataset_size) exactly once.
  std::vector<int64_t> eval_indices(int rank) const;
  std::vector<int64_t> eval_indices() const { return eval_indices(rank_); }

 private:
  // The permutation of the last epoch asked for, shared by all steps of that epoch.
  std::shared_ptr<const std::vector<int64_t>> cached_permutation(int64_t epoch) const;

  int64_t dataset_size_;
  int world_size_;
  int rank_;
  uint64_t seed_;
  bool shuffle_;
  bool drop_last_;
  // Behind a pointer so the sampler stays copyable and movable; copies have the same seed and
  // size, so sharing the cache between them is correct.
  struct Cache {
    std::mutex mutex;
    int64_t epoch = -1;
    std::shared_ptr<const std::vector<int64_t>> order;
  };
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

}  // namespace convoy::data
