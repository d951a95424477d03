#pragma once
// From a RunConfig to the data of a run: the train and test splits, the sampler, the
// augmentation pipelines, and the input geometry the model is built for.

#include <memory>

#include "datasets/dataset.hpp"
#include "datasets/distributed_sampler.hpp"
#include "datasets/transforms.hpp"
#include "framework/distributed/communicator.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

struct TrainingData {
  std::unique_ptr<data::Dataset> train, test;
  std::unique_ptr<data::DistributedSampler> sampler;
  data::Pipeline train_transform, eval_transform;
  ModelGeometry geometry;  // what one transformed image looks like, and the class count
};

// Opens both splits; the sampler shards the training split over the communicator's ranks.
TrainingData open_training_data(const RunConfig& config, const Communicator& communicator);
// Opens the test split only (convoy eval).
TrainingData open_evaluation_data(const RunConfig& config);

// Opens one split ("train" or "test") of the configured dataset.
std::unique_ptr<data::Dataset> open_split(const RunConfig& config, const std::string& split);

}  // namespace convoy::launcher
