#include "datasets/batch_loader.hpp"

#include <algorithm>

#include "framework/common/error.hpp"

namespace convoy::data {

void Batch::check_shape(const Shape& expected) const {
  const bool values_match = static_cast<int64_t>(images.size()) == element_count(expected);
  const bool labels_match = !expected.empty() && static_cast<int64_t>(labels.size()) == expected[0];
  if (shape == expected && values_match && labels_match) return;
  throw ShapeError("the batch of epoch " + std::to_string(epoch) + " step " + std::to_string(step) +
                   " is " + to_string(shape) + " with " + std::to_string(images.size()) +
                   " values and " + std::to_string(labels.size()) +
                   " labels; the model's input takes " + to_string(expected));
}

Batch load_batch(const Dataset& dataset, const Pipeline& pipeline, uint64_t seed,
                 const std::vector<int64_t>& indices, int64_t epoch, int64_t step) {
  Batch batch;
  batch.epoch = epoch;
  batch.step = step;
  batch.indices = indices;
  batch.labels.reserve(indices.size());
  Shape sample_shape;
  for (size_t i = 0; i < indices.size(); ++i) {
    const Image image = dataset.read(indices[i]);
    FloatImage sample;
    try {
      sample = pipeline.apply(image, seed, epoch, indices[i]);
    } catch (const ShapeError& error) {
      // A transform sees the pixels only; the user needs the file (or sample) it came from.
      throw ShapeError(dataset.describe_sample(indices[i]) + ": " + error.what());
    }
    if (i == 0) {
      sample_shape = sample.shape();
      batch.images.reserve(indices.size() * sample.pixels.size());
    } else if (sample.shape() != sample_shape) {
      throw ShapeError("batch of " + dataset.source() + ": " + dataset.describe_sample(indices[i]) +
                       " has shape " + to_string(sample.shape()) + " after the transforms, but " +
                       dataset.describe_sample(indices[0]) + " has " + to_string(sample_shape) +
                       "; add resize and center_crop (or random_resized_crop) to the transforms");
    }
    batch.images.insert(batch.images.end(), sample.pixels.begin(), sample.pixels.end());
    batch.labels.push_back(image.label);
  }
  batch.shape = {static_cast<int64_t>(indices.size())};
  batch.shape.insert(batch.shape.end(), sample_shape.begin(), sample_shape.end());
  return batch;
}

BatchLoader::BatchLoader(const Dataset& dataset, Pipeline pipeline,
                         const DistributedSampler& sampler, int64_t per_rank_batch,
                         BatchLoaderOptions options)
    : dataset_(dataset),
      pipeline_(std::move(pipeline)),
      sampler_(sampler),
      per_rank_batch_(per_rank_batch),
      options_(options),
      steps_per_epoch_(0) {
  if (per_rank_batch < 1 || options.workers < 0 || options.prefetch_batches < 1) {
    throw ConfigError("batch loader: per-rank batch " + std::to_string(per_rank_batch) +
                      ", workers " + std::to_string(options.workers) + ", prefetch " +
                      std::to_string(options.prefetch_batches) +
                      "; expected batch >= 1, workers >= 0, prefetch >= 1");
  }
  if (sampler.dataset_size() != dataset.size()) {
    throw ConfigError("batch loader: the sampler covers " + std::to_string(sampler.dataset_size()) +
                      " samples but " + dataset.source() + " holds " +
                      std::to_string(dataset.size()));
  }
  steps_per_epoch_ = sampler.batches_per_epoch(per_rank_batch);
  for (int w = 0; w < options.workers; ++w) workers_.emplace_back([this] { worker_loop(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

Batch BatchLoader::build(int64_t position) const {
  const int64_t epoch = position / steps_per_epoch_;
  const int64_t step = position % steps_per_epoch_;
  return load_batch(dataset_, pipeline_, options_.seed,
                    sampler_.indices_for_step(epoch, step, per_rank_batch_), epoch, step);
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first_step) {
  if (epoch < 0 || first_step < 0 || first_step > steps_per_epoch_) {
    throw ConfigError("batch loader: epoch " + std::to_string(epoch) + ", first step " +
                      std::to_string(first_step) + "; expected epoch >= 0 and a step in [0, " +
                      std::to_string(steps_per_epoch_) + "]");
  }
  const int64_t position = epoch * steps_per_epoch_ + first_step;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || position != next_to_deliver_) {
      ++generation_;
      ready_.clear();
      next_to_claim_ = position;
      next_to_deliver_ = position;
    }
    started_ = true;
    end_of_epoch_ = (epoch + 1) * steps_per_epoch_;
  }
  changed_.notify_all();
}

std::optional<Batch> BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_deliver_ >= end_of_epoch_) return std::nullopt;
  const int64_t position = next_to_deliver_;
  if (workers_.empty()) {
    next_to_deliver_ = next_to_claim_ = position + 1;
    lock.unlock();
    return build(position);
  }
  changed_.wait(lock, [&] { return ready_.count(position) > 0; });
  Slot slot = std::move(ready_.at(position));
  ready_.erase(position);
  ++next_to_deliver_;
  lock.unlock();
  changed_.notify_all();  // a prefetch place is free
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

void BatchLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] {
      return stopping_ ||
             (started_ && next_to_claim_ < next_to_deliver_ + options_.prefetch_batches);
    });
    if (stopping_) return;
    const int64_t position = next_to_claim_++;
    const uint64_t generation = generation_;
    lock.unlock();
    Slot slot;
    try {
      slot.batch = build(position);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    if (generation == generation_ && !stopping_) {
      ready_.emplace(position, std::move(slot));
      changed_.notify_all();
    }
  }
}

}  // namespace convoy::data
