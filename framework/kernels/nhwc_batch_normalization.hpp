#pragma once
// nhwc_batch_normalization: convoy's own f32 batch normalization of NHWC activations (the Winograd
// layers' layout), where oneDNN 2.6 offers only bnorm_tbb_jit, slower than its blocked kernel.
// BatchNormalization dispatches here; the semantics are oneDNN's (batch statistics with the
// biased variance, optional scale/shift, optional fused ReLU).

#include <cstdint>

namespace convoy::kernels::nhwc_batch_normalization {

// An NHWC activation seen as N * H * W rows of `channels` contiguous floats.
struct Rows {
  int64_t count = 0;
  int64_t channels = 0;
};

struct Parameters {
  const float* scale = nullptr;  // gamma (C), null without affine
  const float* shift = nullptr;  // beta (C), null without affine
  float epsilon = 1e-5f;
  bool relu = false;  // destination = max(normalized, 0)
};

// destination = scale * (source - mean) / sqrt(variance + epsilon) + shift with the batch's mean
// and biased variance over the rows, which it writes to mean and variance (C).
void forward_training(const float* source, Rows rows, const Parameters& parameters,
                      float* destination, float* mean, float* variance);

// The same with the given (running) mean and variance (C).
void forward_inference(const float* source, Rows rows, const Parameters& parameters,
                       const float* mean, const float* variance, float* destination);

// Gradient through forward_training with the mean and variance it wrote: source_grad, and with
// affine scale_grad and shift_grad (C, overwritten). The fused ReLU's mask is recomputed from
// source, mean, variance, scale and shift (no workspace): the same arithmetic as the forward, so
// the same bits, as long as scale and shift have not changed since.
void backward(const float* source, const float* destination_grad, Rows rows,
              const Parameters& parameters, const float* mean, const float* variance,
              float* source_grad, float* scale_grad, float* shift_grad);

}  // namespace convoy::kernels::nhwc_batch_normalization
