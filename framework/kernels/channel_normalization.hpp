#pragma once
// Batch normalization with hand-written loops on plain (N, C, H*W) float arrays and statistics
// supplied by the caller: the synchronized (cross-rank) BatchNorm path, where sums are
// allreduced between the loops, and backward through frozen (running) statistics.

#include <cstdint>
#include <span>

namespace convoy::kernels {

struct ChannelView {
  int64_t batch = 0, channels = 0, spatial = 0;  // N, C, H*W of a plain NCHW array
};

// sums[c] = sum(x), sums[C + c] = sum(x * x) over (N, H, W), accumulated in double.
void channel_sums(const float* source, ChannelView view, std::span<double> sums);

// destination = (source - mean[c]) * inverse_std[c] * scale[c] + shift[c], then relu if asked.
// scale and shift may be null (no affine: 1 and 0).
void normalize_channels(const float* source, ChannelView view, std::span<const double> mean,
                        std::span<const double> inverse_std, const float* scale, const float* shift,
                        bool relu, float* destination);

// sums[c] = sum(dy), sums[C + c] = sum(dy * xhat) with xhat = (x - mean) * inverse_std, where
// dy is masked by destination > 0 when `destination` (the relu'd forward output) is not null.
void channel_gradient_sums(const float* source, const float* destination_grad,
                           const float* destination, ChannelView view, std::span<const double> mean,
                           std::span<const double> inverse_std, std::span<double> sums);

// source_grad = scale * inverse_std * (dy - sums[c] / count - xhat * sums[C + c] / count), dy
// masked as above. `sums` are the (possibly global) gradient sums and `count` the (possibly
// global) element count per channel; count == 0 means the statistics were constants (eval
// mode), so only scale * inverse_std * dy remains.
void normalize_channels_backward(const float* source, const float* destination_grad,
                                 const float* destination, ChannelView view,
                                 std::span<const double> mean, std::span<const double> inverse_std,
                                 const float* scale, std::span<const double> sums, double count,
                                 float* source_grad);

}  // namespace convoy::kernels
