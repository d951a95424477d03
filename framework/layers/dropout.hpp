#pragma once
// Dropout: inverted dropout (kept values scaled by 1/(1-p)) whose mask is a pure function of
// (seed, call index, first sample, element), so training is reproducible. The trainer keys each
// forward by the global step and the micro-batch's first sample in the global batch
// (DropoutMasks): a resumed run continues the masks, and a sample's mask is the same however the
// global batch is split over ranks and micro-batches. Identity in eval mode.

#include <cstdint>
#include <vector>

#include "framework/layers/layer.hpp"

namespace convoy {

struct DropoutOptions {
  double probability = 0.5;
  uint64_t seed = 0;
};

class Dropout : public Layer {
 public:
  explicit Dropout(const DropoutOptions& options);

  std::string describe() const override;
  void set_seed(uint64_t seed) { options_.seed = seed; }
  // Forward calls in training mode so far; each draws a fresh mask.
  uint64_t call_index() const { return call_index_; }
  void set_call_index(uint64_t index) { call_index_ = index; }
  // The next forward's key: call `index`, its first sample being sample `first_sample` of a
  // larger batch, so sample n of this call gets the mask sample first_sample + n would get.
  void set_mask_key(uint64_t index, int64_t first_sample) {
    call_index_ = index;
    first_sample_ = first_sample;
  }
  // While frozen, forward reuses the last mask (finite-difference checks run forward many times).
  void freeze_mask(bool frozen) { frozen_ = frozen; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  DropoutOptions options_;
  uint64_t call_index_ = 0;
  int64_t first_sample_ = 0;
  bool frozen_ = false;
  bool mask_ready_ = false;
  bool last_was_train_ = false;
  std::vector<float> mask_;  // 0 or 1/(1-p) per element, plain order
  Tensor output_;            // plain
};

}  // namespace convoy
