#pragma once
// Evaluation on a test split, sharded over ranks with exact integer counts summed, so the
// report on N ranks is the report on one.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "datasets/transforms.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/graph/net.hpp"

namespace convoy::launcher {

struct EvaluationResult {
  int64_t samples = 0;
  double loss_sum = 0;  // cross-entropy summed over samples
  int64_t top1 = 0, top5 = 0;
  std::vector<std::string> class_names;
  std::vector<int64_t> confusion;  // (true class, predicted class), row-major

  double loss() const { return samples ? loss_sum / samples : 0; }
  double top1_accuracy() const { return samples ? double(top1) / samples : 0; }
  double top5_accuracy() const { return samples ? double(top5) / samples : 0; }
  std::vector<double> per_class_accuracy() const;
  nlohmann::json to_json() const;
  std::string to_text() const;  // summary, per-class accuracy and the confusion matrix
};

// Evaluates `net` on every sample of `dataset`, sharded over the ranks, in batches of
// `batch_size` images of `image_shape` (C, H, W): the size the net was built for; a batch of
// another size is a ShapeError naming it.
EvaluationResult evaluate(Net& net, const data::Dataset& dataset, const data::Pipeline& transform,
                          const Shape& image_shape, Communicator& communicator,
                          int64_t batch_size);

}  // namespace convoy::launcher
