#pragma once
// Portable random draws keyed by (seed, epoch, index).
//
// Why not <random>'s distributions or std::shuffle: their algorithms are implementation-
// defined, so the same seed could give different crops or sample orders with another standard
// library. std::mt19937_64 itself is fully specified; everything on top of it is written here.

#include <cstdint>
#include <random>

namespace convoy::data {

// SplitMix64 finalizer: a strong 64-bit mix used to combine keys into one seed.
inline uint64_t mix64(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

// One seed from a tuple of keys; different key order gives a different seed.
inline uint64_t hash_keys(uint64_t seed, uint64_t epoch, uint64_t index) {
  return mix64(mix64(mix64(seed) ^ epoch) ^ index);
}

// A generator for one (seed, epoch, index) key with the few draws the data pipeline needs.
class SampleRandom {
 public:
  SampleRandom(uint64_t seed, uint64_t epoch, uint64_t index)
      : engine_(hash_keys(seed, epoch, index)) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, bound) without modulo bias (rejection sampling); bound > 0.
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t draw = engine_();
    while (draw >= limit) draw = engine_();
    return draw % bound;
  }
  // Uniform integer in [low, high], both inclusive (torchvision's randint(low, high + 1)).
  int64_t integer(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(below(static_cast<uint64_t>(high - low) + 1));
  }
  bool coin(double probability) { return uniform() < probability; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace convoy::data
