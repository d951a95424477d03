#pragma once
// Bfloat16: one bf16 value as oneDNN stores it, and its exact conversions to and from float, for
// the kernel layer's own loops that read or write bf16 memory. Private to framework/kernels/.

#include <cstdint>
#include <cstring>

namespace convoy::kernels {

// A float's upper 16 bits.
struct Bfloat16 {
  uint16_t bits;
};

// The bits of `value` rounded to bf16: to nearest, ties to even, as oneDNN's reorders; NaN
// stays NaN (quieted). Written once for a float's bits or a vector of them (lanes.hpp).
template <class Bits>
[[gnu::always_inline]] inline Bits bf16_bits_of(Bits bits) {
  const Bits rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  return (bits & 0x7fffffffu) > 0x7f800000u ? (bits >> 16) | 0x40u : rounded;
}

[[gnu::always_inline]] inline Bfloat16 to_bfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return {static_cast<uint16_t>(bf16_bits_of(bits))};
}

// Exact: a bf16 is a float with its low 16 bits zero.
[[gnu::always_inline]] inline float to_float(Bfloat16 value) {
  const uint32_t bits = uint32_t{value.bits} << 16;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}
[[gnu::always_inline]] inline float to_float(float value) { return value; }

}  // namespace convoy::kernels
