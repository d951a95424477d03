#include "datasets/synthetic_dataset.hpp"

#include "datasets/sample_random.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {

SyntheticDataset::SyntheticDataset(Shape shape, int classes, int64_t size, uint64_t seed)
    : shape_(std::move(shape)), size_(size), seed_(seed) {
  if (shape_.size() != 3 || shape_[0] <= 0 || shape_[1] <= 0 || shape_[2] <= 0 || classes <= 0 ||
      size <= 0) {
    throw ConfigError("synthetic dataset: shape " + to_string(shape_) + ", " +
                      std::to_string(classes) + " classes, " + std::to_string(size) +
                      " samples; expected a positive (C, H, W), class count and size");
  }
  for (int c = 0; c < classes; ++c) class_names_.push_back("class" + std::to_string(c));
}

Image SyntheticDataset::read(int64_t index) const {
  check_index(index);
  // Stream 0 draws the sample; stream 1 fixes each class's brightness for the whole set.
  SampleRandom random(seed_, 0, static_cast<uint64_t>(index));
  Image image;
  image.channels = static_cast<int>(shape_[0]);
  image.height = static_cast<int>(shape_[1]);
  image.width = static_cast<int>(shape_[2]);
  image.label = static_cast<int32_t>(random.below(class_names_.size()));
  image.pixels.resize(static_cast<size_t>(element_count(shape_)));
  const size_t plane = static_cast<size_t>(image.height) * static_cast<size_t>(image.width);
  for (int c = 0; c < image.channels; ++c) {
    SampleRandom class_random(seed_, 1,
                              static_cast<uint64_t>(image.label) * 1024 + static_cast<uint64_t>(c));
    const int brightness = static_cast<int>(class_random.below(129));  // 0..128
    for (size_t p = 0; p < plane; ++p) {
      image.pixels[static_cast<size_t>(c) * plane + p] =
          static_cast<uint8_t>(brightness + static_cast<int>(random.below(128)));
    }
  }
  return image;
}

std::string SyntheticDataset::source() const {
  return "synthetic " + to_string(shape_) + " x " + std::to_string(size_) + " seed " +
         std::to_string(seed_);
}

}  // namespace convoy::data
