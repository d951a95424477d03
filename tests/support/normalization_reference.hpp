#pragma once
// The naive normalization loop the GroupNorm, InstanceNorm and LayerNorm tests compare convoy's
// kernels against: each run of consecutive values normalized by its own statistics.

#include <cstdint>
#include <functional>
#include <vector>

namespace convoy::testing {

// Splits `x` into consecutive runs of `run_length` values and normalizes each by its own mean
// and biased variance, (x - mean) / sqrt(variance + eps), in double; then applies
// `scale[affine_index(i)]` and `shift[...]` to value i of `x` (empty: 1 and 0).
std::vector<float> reference_normalize_runs(const std::vector<float>& x, int64_t run_length,
                                            double eps, const std::vector<float>& scale,
                                            const std::vector<float>& shift,
                                            const std::function<int64_t(int64_t)>& affine_index);

}  // namespace convoy::testing
