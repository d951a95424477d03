#pragma once
// Lanes: eight floats as one value for the kernel layer's own vectorized loops (Winograd
// transforms, NHWC batch normalization), with load, store and ReLU written once for a Lanes or a
// single float, so a loop's channel tail runs the same arithmetic one channel at a time. Private
// to framework/kernels/; include it only from .cpp files built with -Wno-psabi (CMakeLists.txt).

#include <cstdint>
#include <cstring>

namespace convoy::kernels {

// GCC/Clang vector extensions, lowered to AVX2 or SSE by the target_clones clone that inlines
// them; unaligned (as __m256_u). The helpers taking and returning them are always inlined, so no
// call passes one across an ABI (GCC's -Wpsabi note does not apply).
typedef float Lanes __attribute__((vector_size(32), aligned(4)));
inline constexpr int64_t kLaneWidth = 8;

template <class Lane>
[[gnu::always_inline]] inline Lane load(const float* from) {
  Lane value;
  std::memcpy(&value, from, sizeof value);
  return value;
}
template <class Lane>
[[gnu::always_inline]] inline void store(float* to, Lane value) {
  std::memcpy(to, &value, sizeof value);
}
// std::max(value, 0) lane by lane: NaN stays NaN.
template <class Lane>
[[gnu::always_inline]] inline Lane relu_of(Lane value) {
  return value < Lane{} ? Lane{} : value;
}

}  // namespace convoy::kernels
