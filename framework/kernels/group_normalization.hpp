#pragma once
// GroupNormalization: hand-written forward and backward for normalizations whose statistics
// are taken over contiguous runs of a plain array (oneDNN 2.6 has no group normalization):
// GroupNorm, InstanceNorm (one group per channel) and LayerNorm (one group per sample).

#include <cstdint>
#include <vector>

namespace convoy::kernels {

// A plain array seen as rows of `segments * segment_length` values, `groups` rows per sample.
// Each row is normalized on its own; segment s of a row in group g uses scale[g * segments + s].
//   GroupNorm (N, C, H, W), G groups: {N, G, C / G, H * W}
//   InstanceNorm (N, C, H, W):        {N, C, 1, H * W}
//   LayerNorm over (C, H, W):         {N, 1, C * H * W, 1}
struct GroupView {
  int64_t samples = 0, groups = 1, segments = 1, segment_length = 1;
  int64_t rows() const { return samples * groups; }
  int64_t row_length() const { return segments * segment_length; }
  int64_t affine_size() const { return groups * segments; }
};

class GroupNormalization {
 public:
  GroupNormalization(GroupView view, double epsilon);

  const GroupView& view() const { return view_; }

  // destination = (source - mean_row) / sqrt(var_row + epsilon) * scale + shift (biased
  // variance, two-pass in double). scale/shift may be null. Keeps the row statistics for
  // backward.
  void forward(const float* source, const float* scale, const float* shift, float* destination);
  // Gradient through the last forward (same source). scale_grad/shift_grad may be null.
  void backward(const float* source, const float* destination_grad, const float* scale,
                float* source_grad, float* scale_grad, float* shift_grad);

 private:
  GroupView view_;
  double epsilon_;
  std::vector<double> mean_, inverse_std_;  // (rows)
  // Per (sample, affine index) partial sums of dy and dy * xhat, reduced over samples for the
  // scale and shift gradients. (N, affine_size)
  std::vector<double> partial_dy_, partial_dy_xhat_;
};

}  // namespace convoy::kernels
