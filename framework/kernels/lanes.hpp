#pragma once
// Lanes: eight floats as one value for the kernel layer's own vectorized loops (Winograd
// transforms, NHWC batch normalization), and WideLanes, sixteen, for the Winograd loops' AVX-512
// versions; load, store and ReLU are written once for either or a single float, so a loop's
// channel tail runs the same arithmetic one channel at a time; load and store also take bf16
// memory. Private to framework/kernels/;
// include it only from .cpp files built with -Wno-psabi (CMakeLists.txt).

#include <cstdint>
#include <cstring>

#include "framework/kernels/bfloat16.hpp"

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

// A Lanes' or WideLanes' floats as bits, and those bits' upper halves.
template <int64_t Width>
struct LaneBits;
template <>
struct LaneBits<8> {
  typedef uint32_t Bits __attribute__((vector_size(32), aligned(4)));
  typedef uint16_t Halves __attribute__((vector_size(16), aligned(2)));
};
template <>
struct LaneBits<16> {
  typedef uint32_t Bits __attribute__((vector_size(64), aligned(4)));
  typedef uint16_t Halves __attribute__((vector_size(32), aligned(2)));
};

// Floats rounded to bf16 (bfloat16.hpp) and stored, one or a vector's worth; loads widen
// exactly. Integer arithmetic on the floats' bits, so the same bits on every ISA.
template <class Lane>
[[gnu::always_inline]] inline void store(Bfloat16* to, Lane value) {
  constexpr int64_t width = lane_width<Lane>;
  if constexpr (width == 1) {
    *to = to_bfloat16(value);
  } else {
    using Bits = typename LaneBits<width>::Bits;
    using Halves = typename LaneBits<width>::Halves;
    Bits bits;
    std::memcpy(&bits, &value, sizeof bits);
    const Halves halves = __builtin_convertvector(bf16_bits_of(bits), Halves);
    std::memcpy(to, &halves, sizeof halves);
  }
}
template <class Lane>
[[gnu::always_inline]] inline Lane load(const Bfloat16* from) {
  constexpr int64_t width = lane_width<Lane>;
  if constexpr (width == 1) {
    return to_float(*from);
  } else {
    using Bits = typename LaneBits<width>::Bits;
    using Halves = typename LaneBits<width>::Halves;
    Halves halves;
    std::memcpy(&halves, from, sizeof halves);
    const Bits bits = __builtin_convertvector(halves, Bits) << 16;
    Lane value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
}

// std::max(value, 0) lane by lane: NaN stays NaN.
template <class Lane>
[[gnu::always_inline]] inline Lane relu_of(Lane value) {
  return value < Lane{} ? Lane{} : value;
}

}  // namespace convoy::kernels
