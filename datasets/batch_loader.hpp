#pragma once
// Batches of transformed samples for consecutive global steps, decoded on background threads.
//
// Why it works this way:
// 1. A batch is a pure function of (epoch, step): the sampler gives the indices, the dataset
//    the pixels, the pipeline the augmentation keyed by (seed, epoch, index). Workers only
//    decide *when* a batch is built, never *what* is in it, so the result is identical for
//    0, 1 or N workers, and the trainer can resume at any step.
// 2. Steps are numbered by one position, epoch * steps_per_epoch + step. Each worker claims
//    the next unclaimed position and builds the whole batch; finished batches wait in a map
//    keyed by position and are handed out strictly in order. At most `prefetch_batches`
//    positions beyond the one the consumer waits for are claimed, which bounds memory and keeps
//    workers from running ahead of a slow trainer. Claiming runs on past the end of the epoch,
//    so the first batches of the next epoch are ready when start_epoch(epoch + 1) continues
//    where delivery stopped; any other start_epoch discards what was prefetched.
// 3. An exception in a worker is stored in that step's slot and re-thrown (same type, same
//    message) by next() when the consumer reaches that step.
// 4. One consumer thread calls start_epoch() and next(); the workers are the only other threads.
// 5. The destructor raises a stop flag and joins: a worker finishes at most the batch it is
//    building, so shutdown never hangs on a full queue.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "datasets/dataset.hpp"
#include "datasets/distributed_sampler.hpp"
#include "datasets/transforms.hpp"
#include "framework/common/shape.hpp"

namespace convoy::data {

// One rank's share of one global step, ready to copy into a Tensor.
struct Batch {
  std::vector<float> images;     // (N, C, H, W), contiguous
  Shape shape;                   // {N, C, H, W}
  std::vector<int32_t> labels;   // (N)
  std::vector<int64_t> indices;  // (N) dataset indices, for debugging and tests
  int64_t epoch = 0;
  int64_t step = 0;

  // ShapeError unless shape is `expected` and images and labels hold exactly that many values,
  // so slicing the batch into inputs of that shape can neither read past it nor cut across
  // samples.
  void check_shape(const Shape& expected) const;
};

// Reads and transforms `indices` into one batch; ShapeError naming the sample if the
// transformed sizes differ (add resize / center_crop for a folder of photos). The synchronous
// path used by evaluation, by tests and by the workers themselves.
Batch load_batch(const Dataset& dataset, const Pipeline& pipeline, uint64_t seed,
                 const std::vector<int64_t>& indices, int64_t epoch, int64_t step);

struct BatchLoaderOptions {
  int workers = 2;           // background threads; 0 = build each batch inside next()
  int prefetch_batches = 4;  // steps built ahead of the consumer (>= 1)
  uint64_t seed = 0;         // augmentation seed (the sampler has its own for the order)
};

// Delivers this rank's batches of one epoch in step order, built in the background.
class BatchLoader {
 public:
  // Keeps references to dataset and sampler: both must outlive the loader. ConfigError for a
  // per-rank batch < 1, workers < 0 or prefetch_batches < 1.
  BatchLoader(const Dataset& dataset, Pipeline pipeline, const DistributedSampler& sampler,
              int64_t per_rank_batch, BatchLoaderOptions options = {});
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  // Starts delivery at `first_step` of `epoch` (0 <= first_step <= steps_per_epoch, epoch >= 0).
  // Keeps the prefetched batches when this continues right where delivery stopped (the next
  // epoch after an exhausted one), discards them otherwise.
  void start_epoch(int64_t epoch, int64_t first_step = 0);
  // The next step's batch, or std::nullopt once the epoch is exhausted (or before any
  // start_epoch). Re-throws a worker's exception for that step.
  std::optional<Batch> next();

 private:
  // A finished step: its batch or the exception that stopped it.
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build(int64_t position) const;
  void worker_loop();

  const Dataset& dataset_;
  Pipeline pipeline_;
  const DistributedSampler& sampler_;
  int64_t per_rank_batch_;
  BatchLoaderOptions options_;
  int64_t steps_per_epoch_;

  std::mutex mutex_;
  std::condition_variable changed_;  // any change of the fields below
  bool stopping_ = false;
  bool started_ = false;     // workers idle until the first start_epoch
  uint64_t generation_ = 0;  // bumped by a discarding start_epoch; stale batches are dropped
  // Positions (epoch * steps_per_epoch + step):
  int64_t next_to_claim_ = 0;
  int64_t next_to_deliver_ = 0;
  int64_t end_of_epoch_ = 0;  // first position after the current epoch
  std::map<int64_t, Slot> ready_;
  std::vector<std::thread> workers_;
};

}  // namespace convoy::data
