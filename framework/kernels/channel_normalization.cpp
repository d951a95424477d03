#include "framework/kernels/channel_normalization.hpp"

#include <algorithm>

#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

// Why the loops look like this: OpenMP splits channels (each thread owns whole channels, so no
// reduction races), and the innermost loop runs over the contiguous H*W plane with
// `omp simd reduction`, which lets GCC vectorize double accumulations without -ffast-math.

void channel_sums(const float* source, ChannelView view, std::span<double> sums) {
  const OwnLoopTimer timer;
  const int64_t C = view.channels, HW = view.spatial;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0, square_sum = 0;
    for (int64_t n = 0; n < view.batch; ++n) {
      const float* plane = source + (n * C + c) * HW;
#pragma omp simd reduction(+ : sum, square_sum)
      for (int64_t i = 0; i < HW; ++i) {
        const double x = plane[i];
        sum += x;
        square_sum += x * x;
      }
    }
    sums[c] = sum;
    sums[C + c] = square_sum;
  }
}

void normalize_channels(const float* source, ChannelView view, std::span<const double> mean,
                        std::span<const double> inverse_std, const float* scale, const float* shift,
                        bool relu, float* destination) {
  const OwnLoopTimer timer;
  const int64_t C = view.channels, HW = view.spatial;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const float multiplier = static_cast<float>(inverse_std[c] * (scale ? scale[c] : 1.0f));
    const float offset = static_cast<float>((shift ? shift[c] : 0.0f) - mean[c] * multiplier);
    for (int64_t n = 0; n < view.batch; ++n) {
      const float* in = source + (n * C + c) * HW;
      float* out = destination + (n * C + c) * HW;
      if (relu) {
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) out[i] = std::max(in[i] * multiplier + offset, 0.0f);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) out[i] = in[i] * multiplier + offset;
      }
    }
  }
}

void channel_gradient_sums(const float* source, const float* destination_grad,
                           const float* destination, ChannelView view, std::span<const double> mean,
                           std::span<const double> inverse_std, std::span<double> sums) {
  const OwnLoopTimer timer;
  const int64_t C = view.channels, HW = view.spatial;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const double m = mean[c], s = inverse_std[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < view.batch; ++n) {
      const int64_t base = (n * C + c) * HW;
      const float* x = source + base;
      const float* dy = destination_grad + base;
      const float* y = destination ? destination + base : nullptr;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
      for (int64_t i = 0; i < HW; ++i) {
        const double g = (y && !(y[i] > 0.0f)) ? 0.0 : dy[i];
        sum_dy += g;
        sum_dy_xhat += g * (x[i] - m) * s;
      }
    }
    sums[c] = sum_dy;
    sums[C + c] = sum_dy_xhat;
  }
}

void normalize_channels_backward(const float* source, const float* destination_grad,
                                 const float* destination, ChannelView view,
                                 std::span<const double> mean, std::span<const double> inverse_std,
                                 const float* scale, std::span<const double> sums, double count,
                                 float* source_grad) {
  const OwnLoopTimer timer;
  const int64_t C = view.channels, HW = view.spatial;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const double m = mean[c], s = inverse_std[c];
    const double mean_dy = count > 0 ? sums[c] / count : 0.0;
    const double mean_dy_xhat = count > 0 ? sums[C + c] / count : 0.0;
    const double multiplier = (scale ? scale[c] : 1.0f) * s;
    for (int64_t n = 0; n < view.batch; ++n) {
      const int64_t base = (n * C + c) * HW;
      const float* x = source + base;
      const float* dy = destination_grad + base;
      const float* y = destination ? destination + base : nullptr;
      float* dx = source_grad + base;
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) {
        const double g = (y && !(y[i] > 0.0f)) ? 0.0 : dy[i];
        const double xhat = (x[i] - m) * s;
        dx[i] = static_cast<float>(multiplier * (g - mean_dy - xhat * mean_dy_xhat));
      }
    }
  }
}

}  // namespace convoy::kernels
