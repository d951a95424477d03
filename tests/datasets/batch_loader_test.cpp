#include "datasets/batch_loader.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "datasets/image_folder_dataset.hpp"
#include "datasets/synthetic_dataset.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// Wraps a dataset; fails on one index, or gives one index a different size.
class FaultyDataset : public Dataset {
 public:
  FaultyDataset(const Dataset& inner, int64_t failing_index, bool resize_instead)
      : inner_(inner), failing_index_(failing_index), resize_instead_(resize_instead) {}
  int64_t size() const override { return inner_.size(); }
  const std::vector<std::string>& class_names() const override { return inner_.class_names(); }
  std::optional<Shape> image_shape() const override { return inner_.image_shape(); }
  std::string source() const override { return "faulty"; }
  Image read(int64_t index) const override {
    ++reads;
    if (index != failing_index_) return inner_.read(index);
    if (!resize_instead_) throw FileError("sample " + std::to_string(index) + " is broken");
    Image image = inner_.read(index);
    image.width -= 1;
    image.pixels.resize(static_cast<size_t>(image.channels * image.height * image.width));
    return image;
  }
  mutable std::atomic<int64_t> reads{0};

 private:
  const Dataset& inner_;
  int64_t failing_index_;
  bool resize_instead_;
};

// Waits (up to 2 s, the machine may be busy) until `reads` reaches `count`.
void wait_for_reads(const std::atomic<int64_t>& reads, int64_t count) {
  for (int i = 0; i < 200 && reads.load() < count; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Pipeline augmenting_pipeline() {
  TransformConfig config;
  config.random_crop = 8;
  config.random_crop_padding = 2;
  config.horizontal_flip = true;
  config.mean = {0.5f};
  config.standard_deviation = {0.25f};
  return Pipeline(config);
}

std::vector<Batch> epoch_batches(const Dataset& dataset, int workers, int64_t epoch,
                                 int64_t first_step = 0) {
  const DistributedSampler sampler(dataset.size(), 2, 1, 17);
  BatchLoader loader(dataset, augmenting_pipeline(), sampler, 3, {workers, 2, 99});
  loader.start_epoch(epoch, first_step);
  std::vector<Batch> batches;
  while (std::optional<Batch> batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

void expect_same(const std::vector<Batch>& actual, const std::vector<Batch>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t b = 0; b < actual.size(); ++b) {
    EXPECT_EQ(actual[b].step, expected[b].step);
    EXPECT_EQ(actual[b].epoch, expected[b].epoch);
    EXPECT_EQ(actual[b].indices, expected[b].indices) << "batch " << b;
    EXPECT_EQ(actual[b].labels, expected[b].labels) << "batch " << b;
    EXPECT_EQ(actual[b].images, expected[b].images) << "batch " << b;
  }
}

TEST(BatchLoaderTest, BatchesAreIdenticalWithZeroOneAndThreeWorkers) {
  const SyntheticDataset dataset({2, 8, 8}, 5, 40, 3);
  const std::vector<Batch> synchronous = epoch_batches(dataset, 0, 4);
  ASSERT_EQ(synchronous.size(), 6u);  // 40 samples / (3 per rank x 2 ranks), last 4 dropped
  for (size_t b = 0; b < synchronous.size(); ++b) {
    EXPECT_EQ(synchronous[b].step, static_cast<int64_t>(b));
    EXPECT_EQ(synchronous[b].shape, (Shape{3, 2, 8, 8}));
    EXPECT_EQ(synchronous[b].images.size(), 3u * 2 * 8 * 8);
  }
  expect_same(epoch_batches(dataset, 1, 4), synchronous);
  expect_same(epoch_batches(dataset, 3, 4), synchronous);
}

TEST(BatchLoaderTest, BatchContentIsTheSamplerSliceThroughThePipeline) {
  const SyntheticDataset dataset({2, 8, 8}, 5, 40, 3);
  const DistributedSampler sampler(dataset.size(), 2, 1, 17);
  const std::vector<Batch> batches = epoch_batches(dataset, 2, 1);
  const Pipeline pipeline = augmenting_pipeline();
  for (const Batch& batch : batches) {
    ASSERT_EQ(batch.indices, sampler.indices_for_step(1, batch.step, 3));
    for (size_t i = 0; i < 3; ++i) {
      const Image image = dataset.read(batch.indices[i]);
      EXPECT_EQ(batch.labels[i], image.label);
      const std::vector<float> expected = pipeline.apply(image, 99, 1, batch.indices[i]).pixels;
      EXPECT_TRUE(std::equal(expected.begin(), expected.end(),
                             batch.images.begin() + static_cast<std::ptrdiff_t>(i * 128)));
    }
  }
}

TEST(BatchLoaderTest, ResumingMidEpochGivesTheRemainingBatches) {
  const SyntheticDataset dataset({1, 8, 8}, 3, 40, 8);
  const std::vector<Batch> whole = epoch_batches(dataset, 2, 7);
  const std::vector<Batch> resumed = epoch_batches(dataset, 2, 7, 4);
  expect_same(resumed, std::vector<Batch>(whole.begin() + 4, whole.end()));
}

TEST(BatchLoaderTest, ConsecutiveEpochsDifferAndRestartCleanly) {
  const SyntheticDataset dataset({1, 8, 8}, 3, 24, 8);
  const DistributedSampler sampler(dataset.size(), 1, 0, 2);
  BatchLoader loader(dataset, augmenting_pipeline(), sampler, 4, {2, 3, 1});
  EXPECT_FALSE(loader.next().has_value());  // no epoch started
  loader.start_epoch(0);
  const Batch first = *loader.next();
  loader.start_epoch(1);  // abandons epoch 0 with batches in flight
  const Batch other = *loader.next();
  EXPECT_EQ(other.epoch, 1);
  EXPECT_EQ(other.step, 0);
  EXPECT_NE(other.indices, first.indices);
  int64_t count = 1;
  while (loader.next()) ++count;
  EXPECT_EQ(count, loader.steps_per_epoch());
}

TEST(BatchLoaderTest, NextEpochIsPrefetchedWhileTheLastOneEnds) {
  const SyntheticDataset inner({1, 8, 8}, 3, 40, 8);
  const FaultyDataset dataset(inner, -1, false);
  const DistributedSampler sampler(dataset.size(), 2, 1, 17);
  BatchLoader loader(dataset, augmenting_pipeline(), sampler, 3, {2, 3, 99});
  const int64_t steps = loader.steps_per_epoch();
  loader.start_epoch(0);
  while (loader.next()) {
  }
  wait_for_reads(dataset.reads, (steps + 3) * 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // would any more come?
  // Epoch 0 was read whole and the first 3 steps of epoch 1 were built before start_epoch(1).
  EXPECT_EQ(dataset.reads.load(), (steps + 3) * 3);
  loader.start_epoch(1);
  std::vector<Batch> epoch_one;
  while (std::optional<Batch> batch = loader.next()) epoch_one.push_back(std::move(*batch));
  expect_same(epoch_one, epoch_batches(inner, 0, 1));
  // Nothing was built twice.
  EXPECT_LE(dataset.reads.load(), (2 * steps + 3) * 3);
}

TEST(BatchLoaderTest, WorkerExceptionReachesTheConsumerWithItsMessage) {
  const SyntheticDataset inner({1, 8, 8}, 3, 24, 8);
  const DistributedSampler sampler(inner.size(), 1, 0, 2);
  const int64_t bad_index = sampler.indices_for_step(0, 2, 4)[1];
  const FaultyDataset dataset(inner, bad_index, false);
  for (int workers : {0, 2}) {
    BatchLoader loader(dataset, augmenting_pipeline(), sampler, 4, {workers, 2, 1});
    loader.start_epoch(0);
    EXPECT_EQ(loader.next()->step, 0);
    EXPECT_EQ(loader.next()->step, 1);
    testing::expect_error_mentioning<FileError>(
        [&] { loader.next(); }, {"sample " + std::to_string(bad_index) + " is broken"});
    EXPECT_EQ(loader.next()->step, 3) << "workers " << workers;  // the loader goes on
  }
}

TEST(BatchLoaderTest, SamplesOfDifferentSizesInOneBatchAreAShapeError) {
  const SyntheticDataset inner({1, 6, 6}, 3, 8, 8);
  const FaultyDataset dataset(inner, 1, /*resize_instead=*/true);
  const DistributedSampler sampler(dataset.size(), 1, 0, 2, /*shuffle=*/false);
  BatchLoader loader(dataset, Pipeline(), sampler, 4, {1, 2, 1});
  loader.start_epoch(0);
  testing::expect_error_mentioning<ShapeError>([&] { loader.next(); },
                                               {"sample 1", "(1, 6, 5)", "(1, 6, 6)", "resize"});
}

TEST(BatchLoaderTest, PrefetchIsBoundedAndDestructionDoesNotWaitForTheEpoch) {
  const SyntheticDataset inner({1, 4, 4}, 3, 400, 8);
  const FaultyDataset dataset(inner, -1, false);
  const DistributedSampler sampler(dataset.size(), 1, 0, 2);
  {
    BatchLoader loader(dataset, Pipeline(), sampler, 2, {3, 4, 1});
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    wait_for_reads(dataset.reads, 2 * 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // would any more come?
    // Delivered step 0; steps 1..4 may be built ahead, nothing beyond.
    EXPECT_EQ(dataset.reads.load(), 2 * 5);
  }  // 200 steps left: the destructor must return promptly
  EXPECT_LE(dataset.reads.load(), 2 * 5);
}

// A transform sees pixels only: "transform pad_to 6: image (3, 8, 5) is larger than the padded
// size" named no file, nor did "sample 1 has shape ..." for a batch of unequal images.
TEST(BatchLoaderTest, ATransformErrorAndUnequalSamplesNameTheImageFiles) {
  testing::TemporaryDirectory directory;
  std::filesystem::create_directories(directory.path() / "a");
  write_file_bytes(directory.file("a/0.png"),
                   encode_png({std::vector<uint8_t>(3 * 6 * 6), 3, 6, 6, 0}));
  write_file_bytes(directory.file("a/1.png"),
                   encode_png({std::vector<uint8_t>(3 * 8 * 5), 3, 8, 5, 0}));
  const ImageFolderDataset dataset(directory.path().string());
  TransformConfig pad;
  pad.pad_to = 6;
  testing::expect_error_mentioning<ShapeError>(
      [&] {
        load_batch(dataset, Pipeline(pad), 0, {0, 1}, 0, 0);
      },
      {"image '" + directory.file("a/1.png") + "': transform pad_to 6", "(3, 8, 5)"});
  testing::expect_error_mentioning<ShapeError>(
      [&] {
        load_batch(dataset, Pipeline(), 0, {0, 1}, 0, 0);
      },
      {"image '" + directory.file("a/1.png") + "' has shape (3, 8, 5)",
       "but image '" + directory.file("a/0.png") + "' has (3, 6, 6)"});
}

TEST(BatchLoaderTest, SynchronousLoadBatchServesEvaluationShards) {
  const SyntheticDataset dataset({1, 4, 4}, 3, 10, 8);
  const DistributedSampler sampler(dataset.size(), 3, 2, 0);
  const Batch batch = load_batch(dataset, Pipeline(), 0, sampler.eval_indices(), 0, 0);
  EXPECT_EQ(batch.shape, (Shape{3, 1, 4, 4}));
  EXPECT_EQ(batch.indices, (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(batch.labels[2], dataset.read(9).label);
  EXPECT_FLOAT_EQ(batch.images[2 * 16 + 5], dataset.read(9).pixels[5] / 255.0f);
}

// The trainer slices a batch into model inputs at a fixed stride: a batch of 28x28 samples
// read as 100x100 inputs would run past its end.
TEST(BatchLoaderTest, ABatchOfAnotherShapeThanTheModelInputIsAShapeError) {
  const SyntheticDataset dataset({1, 4, 4}, 3, 10, 8);
  const Batch batch = load_batch(dataset, Pipeline(), 0, {0, 1}, 0, 5);
  batch.check_shape({2, 1, 4, 4});
  testing::expect_error_mentioning<ShapeError>([&] { batch.check_shape({2, 1, 10, 10}); },
                                               {"step 5", "(2, 1, 4, 4)", "(2, 1, 10, 10)"});
  testing::expect_error_mentioning<ShapeError>([&] { batch.check_shape({3, 1, 4, 4}); },
                                               {"(3, 1, 4, 4)"});
  testing::expect_error_mentioning<ShapeError>([&] { batch.check_shape({2, 16}); }, {"(2, 16)"});
  Batch short_of_values = batch;
  short_of_values.images.pop_back();
  testing::expect_error_mentioning<ShapeError>(
      [&] { short_of_values.check_shape({2, 1, 4, 4}); }, {"31 values"});
  Batch short_of_labels = batch;
  short_of_labels.labels.pop_back();
  testing::expect_error_mentioning<ShapeError>(
      [&] { short_of_labels.check_shape({2, 1, 4, 4}); }, {"1 labels"});
}

TEST(BatchLoaderTest, SamplerOfAnotherDatasetIsAConfigError) {
  const SyntheticDataset dataset({1, 4, 4}, 3, 10, 8);
  const DistributedSampler sampler(11, 1, 0, 0);
  testing::expect_error_mentioning<ConfigError>(
      [&] { BatchLoader(dataset, Pipeline(), sampler, 2); }, {"11 samples", "holds 10"});
}

}  // namespace
}  // namespace convoy::data
