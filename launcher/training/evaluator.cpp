#include "launcher/training/evaluator.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "datasets/batch_loader.hpp"
#include "framework/common/error.hpp"
#include "framework/loss/softmax_cross_entropy.hpp"

namespace convoy::launcher {

std::vector<double> EvaluationResult::per_class_accuracy() const {
  const size_t classes = class_names.size();
  std::vector<double> accuracy(classes, 0.0);
  for (size_t k = 0; k < classes; ++k) {
    int64_t total = 0;
    for (size_t p = 0; p < classes; ++p) total += confusion[k * classes + p];
    accuracy[k] = total ? double(confusion[k * classes + k]) / total : 0.0;
  }
  return accuracy;
}

nlohmann::json EvaluationResult::to_json() const {
  const size_t classes = class_names.size();
  std::vector<std::vector<int64_t>> matrix(classes);
  for (size_t k = 0; k < classes; ++k) {
    matrix[k].assign(confusion.begin() + k * classes, confusion.begin() + (k + 1) * classes);
  }
  return {{"samples", samples},         {"loss", loss()},
          {"top1", top1_accuracy()},    {"top5", top5_accuracy()},
          {"correct_top1", top1},       {"correct_top5", top5},
          {"class_names", class_names}, {"per_class_accuracy", per_class_accuracy()},
          {"confusion_matrix", matrix}};
}

std::string EvaluationResult::to_text() const {
  std::string text;
  char line[256];
  std::snprintf(line, sizeof line, "samples %lld  loss %.4f  top-1 %.2f %%  top-5 %.2f %%\n",
                static_cast<long long>(samples), loss(), 100 * top1_accuracy(),
                100 * top5_accuracy());
  text += line;
  const auto accuracy = per_class_accuracy();
  text += "per-class top-1 accuracy:\n";
  for (size_t k = 0; k < class_names.size(); ++k) {
    std::snprintf(line, sizeof line, "  %3zu %-20s %6.2f %%\n", k, class_names[k].c_str(),
                  100 * accuracy[k]);
    text += line;
  }
  text += "confusion matrix (rows: true class, columns: predicted):\n     ";
  const size_t classes = class_names.size();
  for (size_t p = 0; p < classes; ++p) {
    std::snprintf(line, sizeof line, "%6zu", p);
    text += line;
  }
  text += "\n";
  for (size_t k = 0; k < classes; ++k) {
    std::snprintf(line, sizeof line, "  %3zu", k);
    text += line;
    for (size_t p = 0; p < classes; ++p) {
      std::snprintf(line, sizeof line, "%6lld", static_cast<long long>(confusion[k * classes + p]));
      text += line;
    }
    text += "\n";
  }
  return text;
}

EvaluationResult evaluate(Net& net, const data::Dataset& dataset, const data::Pipeline& transform,
                          const Shape& image_shape, Communicator& communicator,
                          int64_t batch_size) {
  const int64_t classes = dataset.class_count();
  EvaluationResult result;
  result.class_names = dataset.class_names();
  result.confusion.assign(static_cast<size_t>(classes * classes), 0);
  SoftmaxCrossEntropy loss;
  // Rank r evaluates samples r, r + N, r + 2N, ...: disjoint, covering, no padding.
  std::vector<int64_t> indices;
  for (int64_t i = communicator.rank(); i < dataset.size(); i += communicator.world_size()) {
    indices.push_back(i);
  }
  for (size_t begin = 0; begin < indices.size(); begin += batch_size) {
    const size_t end = std::min(indices.size(), begin + static_cast<size_t>(batch_size));
    std::vector<int64_t> chunk(indices.begin() + begin, indices.begin() + end);
    data::Batch batch = data::load_batch(dataset, transform, /*seed=*/0, chunk, /*epoch=*/0, 0);
    Shape batch_shape{static_cast<int64_t>(chunk.size())};
    batch_shape.insert(batch_shape.end(), image_shape.begin(), image_shape.end());
    if (batch.shape != batch_shape) {
      throw ShapeError("evaluation data " + dataset.source() + ": sample " +
                       std::to_string(chunk.front()) + " is " +
                       to_string(Shape(batch.shape.begin() + 1, batch.shape.end())) +
                       " after the transforms, but the model takes " + to_string(image_shape) +
                       " (the size of sample 0); add --resize and --center-crop");
    }
    batch.check_shape(batch_shape);  // and as many values and labels
    Tensor input = Tensor::from_plain(batch.shape, batch.images);
    Tensor logits = net.forward(input, Mode::eval);
    result.loss_sum += loss.forward(logits, batch.labels, /*normalizer=*/1.0);
    const auto values = logits.to_plain();
    for (size_t n = 0; n < chunk.size(); ++n) {
      const float* row = values.data() + n * classes;
      const int32_t label = batch.labels[n];
      const int64_t predicted = std::max_element(row, row + classes) - row;
      // Rank of the true class: how many logits beat it (ties count against it).
      int64_t better = 0;
      for (int64_t k = 0; k < classes; ++k)
        better += row[k] > row[label] || (row[k] == row[label] && k < label);
      result.top1 += predicted == label;
      result.top5 += better < 5;
      ++result.confusion[label * classes + predicted];
    }
    result.samples += static_cast<int64_t>(chunk.size());
  }
  // Integer counts sum exactly; the loss sum is the only floating-point total.
  std::vector<int64_t> counts{result.samples, result.top1, result.top5};
  counts.insert(counts.end(), result.confusion.begin(), result.confusion.end());
  communicator.allreduce_sum(std::span<int64_t>(counts));
  result.samples = counts[0];
  result.top1 = counts[1];
  result.top5 = counts[2];
  std::copy(counts.begin() + 3, counts.end(), result.confusion.begin());
  std::array<double, 1> loss_sum{result.loss_sum};
  communicator.allreduce_sum(std::span<double>(loss_sum));
  result.loss_sum = loss_sum[0];
  return result;
}

}  // namespace convoy::launcher
