#pragma once
// Lanes: eight floats as one value for the kernel layer's own vectorized loops (Winograd
// transforms, NHWC batch normalization), and WideLanes, sixteen, for the Winograd loops' AVX-512
// versions; load, store and ReLU are written once for either or a single float, so a loop's
// channel tail runs the same arithmetic one channel at a time. Private to framework/kernels/;
// include it only from .cpp files built with -Wno-psabi (CMakeLists.txt).

#include <cstdint>
#include <cstring>

namespace convoy::kernels {

// GCC/Clang vector extensions, lowered to AVX2 or SSE by the target_clones clone that inlines
// them; unaligned (as __m256_u). The helpers taking and returning them are always inlined, so no
// call passes one across an ABI (GCC's -Wpsabi note does not apply).
typedef float Lanes __attribute__((vector_size(32), aligned(4)));
inline constexpr int64_t kLaneWidth = 8;
// One AVX-512 register: only in functions compiled for x86-64-v4, called where
// wide_lanes_in_use() (context.hpp).
typedef float WideLanes __attribute__((vector_size(64), aligned(4)));

// Floats in a Lanes, a WideLanes or a float.
template <class Lane>
inline constexpr int64_t lane_width = sizeof(Lane) / sizeof(float);

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
// `value` in every lane: one broadcast instruction. (GCC 12 builds a sixteen-value initializer
// list lane by lane, with masked inserts, in the AVX-512 functions; adding `value` to a zero
// vector would cost an add and turn -0 into +0.)
template <class Lane>
[[gnu::always_inline]] inline Lane broadcast(float value) {
  const Lane first{value};
  if constexpr (sizeof(Lane) == sizeof(WideLanes)) {
    return __builtin_shufflevector(first, first, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  } else {
    static_assert(sizeof(Lane) == sizeof(Lanes));
    return __builtin_shufflevector(first, first, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}

// std::max(value, 0) lane by lane: NaN stays NaN.
template <class Lane>
[[gnu::always_inline]] inline Lane relu_of(Lane value) {
  return value < Lane{} ? Lane{} : value;
}

}  // namespace convoy::kernels
