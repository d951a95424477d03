#include "support/normalization_reference.hpp"

#include <cmath>

namespace convoy::testing {

std::vector<float> reference_normalize_runs(const std::vector<float>& x, int64_t run_length,
                                            double eps, const std::vector<float>& scale,
                                            const std::vector<float>& shift,
                                            const std::function<int64_t(int64_t)>& affine_index) {
  std::vector<float> y(x.size());
  const auto length = static_cast<size_t>(run_length);
  for (size_t begin = 0; begin < x.size(); begin += length) {
    double mean = 0, variance = 0;
    for (size_t i = begin; i < begin + length; ++i) mean += x[i];
    mean /= static_cast<double>(length);
    for (size_t i = begin; i < begin + length; ++i) variance += (x[i] - mean) * (x[i] - mean);
    variance /= static_cast<double>(length);
    for (size_t i = begin; i < begin + length; ++i) {
      const auto k = static_cast<size_t>(affine_index(static_cast<int64_t>(i)));
      const double a = scale.empty() ? 1.0 : scale[k], b = shift.empty() ? 0.0 : shift[k];
      y[i] = static_cast<float>((x[i] - mean) / std::sqrt(variance + eps) * a + b);
    }
  }
  return y;
}

}  // namespace convoy::testing
