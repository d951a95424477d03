#include "framework/loss/softmax_cross_entropy.hpp"

#include <cmath>

#include "framework/common/error.hpp"
#include "framework/plain_version.hpp"

namespace convoy {

// Numerics: log-sum-exp with the row maximum subtracted (no overflow for large logits), sums in
// double. With lse = log(sum_k exp(z_k)) and smoothing s, the per-sample loss is
//   (1 - s) * (lse - z_y) + s * (lse - mean_k z_k)
// and its gradient softmax(z) - ((1 - s) * one_hot(y) + s / K), both divided by the normalizer.

namespace {

// Checks the (N, K) shape and the labels; names the first bad sample.
void check_batch(const Tensor& logits, std::span<const int32_t> labels, const char* who) {
  const Shape shape = logits.shape();
  if (shape.size() != 2 || shape[1] < 1) {
    throw ShapeError(std::string(who) + ": expects logits (N, K), got " + to_string(shape));
  }
  if (static_cast<int64_t>(labels.size()) != shape[0]) {
    throw ShapeError(std::string(who) + ": got " + std::to_string(labels.size()) +
                     " labels for logits " + to_string(shape));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= shape[1]) {
      throw ShapeError(std::string(who) + ": sample " + std::to_string(i) + " has label " +
                       std::to_string(labels[i]) + ", expected a class in [0, " +
                       std::to_string(shape[1]) + ")");
    }
  }
}

// Position of the label among the classes sorted by decreasing logit, ties to the lower index.
int64_t rank_of_label(const float* row, int64_t classes, int32_t label) {
  int64_t rank = 0;
  for (int64_t k = 0; k < classes; ++k) {
    rank += (row[k] > row[label]) || (row[k] == row[label] && k < label);
  }
  return rank;
}

}  // namespace

SoftmaxCrossEntropy::SoftmaxCrossEntropy(double label_smoothing)
    : label_smoothing_(label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
    throw ConfigError("SoftmaxCrossEntropy: label_smoothing must lie in [0, 1], got " +
                      std::to_string(label_smoothing));
  }
}

double SoftmaxCrossEntropy::forward(const Tensor& logits, std::span<const int32_t> labels) {
  return forward(logits, labels, static_cast<double>(logits.shape().empty() ? 0 : logits.dim(0)));
}

double SoftmaxCrossEntropy::forward(const Tensor& logits, std::span<const int32_t> labels,
                                    double normalizer) {
  check_batch(logits, labels, "SoftmaxCrossEntropy");
  if (!(normalizer > 0)) {
    throw ConfigError("SoftmaxCrossEntropy: the loss normalizer must be positive, got " +
                      std::to_string(normalizer));
  }
  const int64_t N = logits.dim(0), K = logits.dim(1);
  if (gradient_.empty() || gradient_.shape() != logits.shape()) gradient_ = Tensor::zeros({N, K});
  const float* z_all = plain_version(logits, plain_logits_).plain_data();
  float* grad_all = gradient_.plain_data();
  const double s = label_smoothing_;
  const double inverse_normalizer = 1.0 / normalizer;
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (int64_t n = 0; n < N; ++n) {
    const float* z = z_all + n * K;
    float* grad = grad_all + n * K;
    float max = z[0];
    for (int64_t k = 1; k < K; ++k) max = std::max(max, z[k]);
    double sum_exp = 0, sum_z = 0;
#pragma omp simd reduction(+ : sum_exp, sum_z)
    for (int64_t k = 0; k < K; ++k) {
      sum_exp += std::exp(static_cast<double>(z[k]) - max);
      sum_z += z[k];
    }
    const double lse = max + std::log(sum_exp);
    const int32_t y = labels[n];
    total += (1 - s) * (lse - z[y]) + s * (lse - sum_z / static_cast<double>(K));
    const double smooth = s / static_cast<double>(K);
#pragma omp simd
    for (int64_t k = 0; k < K; ++k) {
      grad[k] = static_cast<float>((std::exp(z[k] - lse) - smooth) * inverse_normalizer);
    }
    grad[y] -= static_cast<float>((1 - s) * inverse_normalizer);
  }
  return total * inverse_normalizer;
}

TopKCounts count_top_k(const Tensor& logits, std::span<const int32_t> labels) {
  check_batch(logits, labels, "count_top_k");
  Tensor scratch;
  const Tensor plain = plain_version(logits, scratch);
  const int64_t N = logits.dim(0), K = logits.dim(1);
  TopKCounts counts;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t rank = rank_of_label(plain.plain_data() + n * K, K, labels[n]);
    counts.top1 += rank < 1;
    counts.top5 += rank < 5;
  }
  return counts;
}

std::vector<int32_t> predictions(const Tensor& logits) {
  const Shape shape = logits.shape();
  if (shape.size() != 2 || shape[1] < 1) {
    throw ShapeError("predictions: expects logits (N, K), got " + to_string(shape));
  }
  Tensor scratch;
  const Tensor plain = plain_version(logits, scratch);
  std::vector<int32_t> result(static_cast<size_t>(shape[0]));
  for (int64_t n = 0; n < shape[0]; ++n) {
    const float* row = plain.plain_data() + n * shape[1];
    int32_t best = 0;
    for (int32_t k = 1; k < shape[1]; ++k) {
      if (row[k] > row[best]) best = k;
    }
    result[n] = best;
  }
  return result;
}

}  // namespace convoy
