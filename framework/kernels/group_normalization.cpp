#include "framework/kernels/group_normalization.hpp"

#include <cmath>

#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

// Why the loops look like this:
// 1. OpenMP splits rows (sample, group): each thread owns whole rows, so the statistics and the
//    input gradient need no synchronization.
// 2. Statistics are two-pass (mean, then sum of squared deviations) in double: one-pass
//    E[x^2] - E[x]^2 loses digits when |mean| >> std.
// 3. Innermost loops run over one contiguous segment with `omp simd` so GCC vectorizes them
//    (double reductions included) without -ffast-math.
// 4. Scale and shift gradients are sums over samples: each row writes its per-segment partial
//    sums, then a second loop parallel over the affine index adds them up.

GroupNormalization::GroupNormalization(GroupView view, double epsilon)
    : view_(view),
      epsilon_(epsilon),
      mean_(static_cast<size_t>(view.rows())),
      inverse_std_(static_cast<size_t>(view.rows())),
      partial_dy_(static_cast<size_t>(view.samples * view.affine_size())),
      partial_dy_xhat_(static_cast<size_t>(view.samples * view.affine_size())) {}

void GroupNormalization::forward(const float* source, const float* scale, const float* shift,
                                 float* destination) {
  const OwnLoopTimer timer;
  const int64_t rows = view_.rows(), length = view_.row_length();
  const int64_t segments = view_.segments, segment_length = view_.segment_length;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = source + r * length;
    float* y = destination + r * length;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < length; ++i) sum += x[i];
    const double mean = sum / static_cast<double>(length);
    double square_sum = 0;
#pragma omp simd reduction(+ : square_sum)
    for (int64_t i = 0; i < length; ++i) square_sum += (x[i] - mean) * (x[i] - mean);
    const double inverse_std = 1.0 / std::sqrt(square_sum / static_cast<double>(length) + epsilon_);
    mean_[r] = mean;
    inverse_std_[r] = inverse_std;
    const int64_t affine_base = (r % view_.groups) * segments;
    if (segment_length == 1) {  // LayerNorm: a scale per element, vectorized across segments
      const float* gamma = scale ? scale + affine_base : nullptr;
      const float* beta = shift ? shift + affine_base : nullptr;
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) {
        const double xhat = (x[i] - mean) * inverse_std;
        y[i] = static_cast<float>(xhat * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f));
      }
      continue;
    }
    for (int64_t s = 0; s < segments; ++s) {
      const double gamma = scale ? scale[affine_base + s] : 1.0;
      const double beta = shift ? shift[affine_base + s] : 0.0;
      const float multiplier = static_cast<float>(gamma * inverse_std);
      const float offset = static_cast<float>(beta - mean * gamma * inverse_std);
      const float* in = x + s * segment_length;
      float* out = y + s * segment_length;
#pragma omp simd
      for (int64_t i = 0; i < segment_length; ++i) out[i] = in[i] * multiplier + offset;
    }
  }
}

void GroupNormalization::backward(const float* source, const float* destination_grad,
                                  const float* scale, float* source_grad, float* scale_grad,
                                  float* shift_grad) {
  const OwnLoopTimer timer;
  const int64_t rows = view_.rows(), length = view_.row_length();
  const int64_t segments = view_.segments, segment_length = view_.segment_length;
  const int64_t affine_size = view_.affine_size();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = source + r * length;
    const float* dy = destination_grad + r * length;
    float* dx = source_grad + r * length;
    const double mean = mean_[r], inverse_std = inverse_std_[r];
    const int64_t sample = r / view_.groups;
    const int64_t affine_base = (r % view_.groups) * segments;
    // With g = dy * gamma: dx = inverse_std * (g - mean(g) - xhat * mean(g * xhat)).
    double sum_g = 0, sum_g_xhat = 0;
    if (segment_length == 1) {  // LayerNorm: vectorized across segments
      double* partial_dy = partial_dy_.data() + sample * affine_size + affine_base;
      double* partial_dy_xhat = partial_dy_xhat_.data() + sample * affine_size + affine_base;
      const float* gamma = scale ? scale + affine_base : nullptr;
#pragma omp simd reduction(+ : sum_g, sum_g_xhat)
      for (int64_t i = 0; i < length; ++i) {
        const double xhat = (x[i] - mean) * inverse_std;
        partial_dy[i] = dy[i];
        partial_dy_xhat[i] = dy[i] * xhat;
        const double g = dy[i] * (gamma ? gamma[i] : 1.0f);
        sum_g += g;
        sum_g_xhat += g * xhat;
      }
    }
    for (int64_t s = 0; segment_length > 1 && s < segments; ++s) {
      const int64_t offset = s * segment_length;
      double sum_dy = 0, sum_dy_xhat = 0;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
      for (int64_t i = 0; i < segment_length; ++i) {
        sum_dy += dy[offset + i];
        sum_dy_xhat += dy[offset + i] * (x[offset + i] - mean) * inverse_std;
      }
      const int64_t a = affine_base + s;
      partial_dy_[sample * affine_size + a] = sum_dy;
      partial_dy_xhat_[sample * affine_size + a] = sum_dy_xhat;
      const double gamma = scale ? scale[a] : 1.0;
      sum_g += gamma * sum_dy;
      sum_g_xhat += gamma * sum_dy_xhat;
    }
    const double mean_g = sum_g / static_cast<double>(length);
    const double mean_g_xhat = sum_g_xhat / static_cast<double>(length);
    if (segment_length == 1) {
      const float* gamma = scale ? scale + affine_base : nullptr;
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) {
        const double xhat = (x[i] - mean) * inverse_std;
        dx[i] = static_cast<float>(
            inverse_std * ((gamma ? gamma[i] : 1.0f) * dy[i] - mean_g - xhat * mean_g_xhat));
      }
      continue;
    }
    for (int64_t s = 0; s < segments; ++s) {
      const int64_t offset = s * segment_length;
      const double gamma = scale ? scale[affine_base + s] : 1.0;
#pragma omp simd
      for (int64_t i = 0; i < segment_length; ++i) {
        const double xhat = (x[offset + i] - mean) * inverse_std;
        dx[offset + i] = static_cast<float>(inverse_std *
                                            (gamma * dy[offset + i] - mean_g - xhat * mean_g_xhat));
      }
    }
  }
  if (scale_grad == nullptr && shift_grad == nullptr) return;
#pragma omp parallel for schedule(static)
  for (int64_t a = 0; a < affine_size; ++a) {
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < view_.samples; ++n) {
      sum_dy += partial_dy_[n * affine_size + a];
      sum_dy_xhat += partial_dy_xhat_[n * affine_size + a];
    }
    if (scale_grad) scale_grad[a] = static_cast<float>(sum_dy_xhat);
    if (shift_grad) shift_grad[a] = static_cast<float>(sum_dy);
  }
}

}  // namespace convoy::kernels
