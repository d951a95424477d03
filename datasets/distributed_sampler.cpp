#include "datasets/distributed_sampler.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "datasets/sample_random.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// Keeps the permutation stream apart from the per-sample augmentation streams, which use the
// same (seed, epoch) keys with a sample index.
constexpr uint64_t kPermutationStream = 0xffffffffffffffffULL;

}  // namespace

DistributedSampler::DistributedSampler(int64_t dataset_size, int world_size, int rank,
                                       uint64_t seed, bool shuffle, bool drop_last)
    : dataset_size_(dataset_size),
      world_size_(world_size),
      rank_(rank),
      seed_(seed),
      shuffle_(shuffle),
      drop_last_(drop_last) {
  if (dataset_size < 1 || world_size < 1 || rank < 0 || rank >= world_size) {
    throw ConfigError("sampler: dataset size " + std::to_string(dataset_size) + ", world size " +
                      std::to_string(world_size) + ", rank " + std::to_string(rank) +
                      "; expected a non-empty dataset and 0 <= rank < world size");
  }
}

std::vector<int64_t> DistributedSampler::permutation(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle_) return order;
  SampleRandom random(seed_, static_cast<uint64_t>(epoch), kPermutationStream);
  // Fisher-Yates, from the back: position i swaps with a uniform position in [0, i].
  for (size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[random.below(i + 1)]);
  }
  return order;
}

std::shared_ptr<const std::vector<int64_t>> DistributedSampler::cached_permutation(
    int64_t epoch) const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  if (!cache_->order || cache_->epoch != epoch) {
    cache_->order = std::make_shared<const std::vector<int64_t>>(permutation(epoch));
    cache_->epoch = epoch;
  }
  return cache_->order;
}

int64_t DistributedSampler::batches_per_epoch(int64_t per_rank_batch) const {
  if (per_rank_batch < 1) {
    throw ConfigError("sampler: per-rank batch " + std::to_string(per_rank_batch) +
                      ", expected at least 1");
  }
  const int64_t global_batch = per_rank_batch * world_size_;
  const int64_t batches =
      drop_last_ ? dataset_size_ / global_batch : (dataset_size_ + global_batch - 1) / global_batch;
  if (batches == 0) {
    throw ConfigError("sampler: the dataset's " + std::to_string(dataset_size_) +
                      " samples do not fill one global batch of " + std::to_string(global_batch) +
                      " (" + std::to_string(per_rank_batch) + " per rank x " +
                      std::to_string(world_size_) + " ranks); lower the batch or keep the " +
                      "last partial batch");
  }
  return batches;
}

std::vector<int64_t> DistributedSampler::indices_for_step(int64_t epoch, int64_t step_in_epoch,
                                                          int64_t per_rank_batch) const {
  const int64_t batches = batches_per_epoch(per_rank_batch);
  if (step_in_epoch < 0 || step_in_epoch >= batches) {
    throw ConfigError("sampler: step " + std::to_string(step_in_epoch) + " of epoch " +
                      std::to_string(epoch) + " is outside [0, " + std::to_string(batches) + ")");
  }
  const std::shared_ptr<const std::vector<int64_t>> order = cached_permutation(epoch);
  const int64_t first = step_in_epoch * per_rank_batch * world_size_ + rank_ * per_rank_batch;
  std::vector<int64_t> indices(static_cast<size_t>(per_rank_batch));
  for (int64_t i = 0; i < per_rank_batch; ++i) {
    // The modulo only matters for the padded last batch (drop_last off): it wraps around.
    indices[static_cast<size_t>(i)] = (*order)[static_cast<size_t>((first + i) % dataset_size_)];
  }
  return indices;
}

std::vector<int64_t> DistributedSampler::eval_indices(int rank) const {
  if (rank < 0 || rank >= world_size_) {
    throw ConfigError("sampler: evaluation shard of rank " + std::to_string(rank) +
                      ", expected 0 <= rank < " + std::to_string(world_size_));
  }
  // The first (N mod W) ranks take one extra sample.
  const int64_t base = dataset_size_ / world_size_;
  const int64_t extra = dataset_size_ % world_size_;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  const int64_t end = begin + base + (rank < extra ? 1 : 0);
  std::vector<int64_t> indices(static_cast<size_t>(end - begin));
  std::iota(indices.begin(), indices.end(), begin);
  return indices;
}

}  // namespace convoy::data
