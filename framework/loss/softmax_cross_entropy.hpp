#pragma once
// SoftmaxCrossEntropy: the classification loss on logits (N, K) and integer labels, as
// torch.nn.CrossEntropyLoss(label_smoothing=...), with its gradient with respect to the logits.
// Also the top-1/top-5 counts and the predicted classes of a batch.

#include <cstdint>
#include <span>
#include <vector>

#include "framework/tensor.hpp"

namespace convoy {

class SoftmaxCrossEntropy {
 public:
  // label_smoothing in [0, 1]: the target is (1 - s) * one_hot + s / K.
  explicit SoftmaxCrossEntropy(double label_smoothing = 0.0);

  double label_smoothing() const { return label_smoothing_; }

  // Sum of the per-sample losses divided by N, the batch mean.
  double forward(const Tensor& logits, std::span<const int32_t> labels);
  // Same, divided by `normalizer` instead of N. Data-parallel ranks pass the global batch size,
  // so the ranks' losses and the allreduce-SUM of their gradients give the global mean.
  double forward(const Tensor& logits, std::span<const int32_t> labels, double normalizer);
  // dLoss/dlogits of the last forward, plain (N, K), scaled by the same normalizer.
  const Tensor& gradient() const { return gradient_; }

 private:
  double label_smoothing_;
  Tensor gradient_;      // (N, K)
  Tensor plain_logits_;  // conversion scratch for non-plain logits // (N, K)
};

struct TopKCounts {
  int64_t top1 = 0;  // samples whose label is the highest logit
  int64_t top5 = 0;  // samples whose label is among the five highest logits
};

// Ties rank the lower class index first, as predictions() does, so a batch of equal logits is
// not counted as all correct.
TopKCounts count_top_k(const Tensor& logits, std::span<const int32_t> labels);

// The class with the highest logit for each sample (the lowest index among ties).
std::vector<int32_t> predictions(const Tensor& logits);

}  // namespace convoy
