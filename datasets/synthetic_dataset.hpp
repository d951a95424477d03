#pragma once
// Deterministic pseudo-random images for benchmarks and end-to-end tests without files.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace convoy::data {

// Sample i is a pure function of (seed, i): its label is drawn uniformly and its pixels are
// noise around a per-(class, channel) brightness, so a model can learn the set (useful for
// "loss goes down" checks) while decoding costs almost nothing.
class SyntheticDataset : public Dataset {
 public:
  // shape = (C, H, W); ConfigError for a non-positive dimension, class count or size.
  SyntheticDataset(Shape shape, int classes, int64_t size, uint64_t seed);

  int64_t size() const override { return size_; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::optional<Shape> image_shape() const override { return shape_; }
  Image read(int64_t index) const override;
  std::string source() const override;

 private:
  Shape shape_;
  int64_t size_ = 0;
  uint64_t seed_ = 0;
  std::vector<std::string> class_names_;
};

}  // namespace convoy::data
