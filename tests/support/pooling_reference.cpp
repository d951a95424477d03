#include "support/pooling_reference.hpp"

namespace convoy::testing {

std::vector<float> reference_pool2d(
    const std::vector<float>& input, const Shape& shape, const Shape& output_shape,
    const PoolingWindow& window,
    const std::function<float(const std::vector<float>& in_bounds_values)>& reduce) {
  const int64_t N = shape[0], C = shape[1], H = shape[2], W = shape[3];
  const int64_t OH = output_shape[2], OW = output_shape[3];
  std::vector<float> output(static_cast<size_t>(N * C * OH * OW));
  std::vector<float> values;
  for (int64_t plane = 0; plane < N * C; ++plane)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        values.clear();
        for (int64_t kh = 0; kh < window.kernel; ++kh)
          for (int64_t kw = 0; kw < window.kernel; ++kw) {
            const int64_t ih = oh * window.stride - window.padding + kh * window.dilation;
            const int64_t iw = ow * window.stride - window.padding + kw * window.dilation;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            values.push_back(input[(plane * H + ih) * W + iw]);
          }
        output[(plane * OH + oh) * OW + ow] = reduce(values);
      }
  return output;
}

}  // namespace convoy::testing
