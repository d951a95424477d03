#include "datasets/transforms.hpp"

#include <algorithm>
#include <cmath>

#include "datasets/image_limits.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

void check_size(int size, const char* field) {
  if (size < 0) {
    throw ConfigError("transform config: " + std::string(field) + " = " + std::to_string(size) +
                      ", expected 0 (off) or a positive size");
  }
}

size_t at(const FloatImage& image, int c, int y, int x) {
  return (static_cast<size_t>(c) * static_cast<size_t>(image.height) + static_cast<size_t>(y)) *
             static_cast<size_t>(image.width) +
         static_cast<size_t>(x);
}

// Source coordinate for a destination pixel under half-pixel centers, and its two neighbours.
struct Tap {
  int low;
  int high;
  float weight_high;
};

std::vector<Tap> taps(int source_size, int destination_size) {
  std::vector<Tap> result(static_cast<size_t>(destination_size));
  const double scale = static_cast<double>(source_size) / destination_size;
  for (int d = 0; d < destination_size; ++d) {
    const double source = std::max(0.0, (d + 0.5) * scale - 0.5);
    const int low = std::min(static_cast<int>(source), source_size - 1);
    const int high = std::min(low + 1, source_size - 1);
    result[static_cast<size_t>(d)] = {low, high, static_cast<float>(source - low)};
  }
  return result;
}

}  // namespace

FloatImage crop(const FloatImage& image, int top, int left, int height, int width) {
  FloatImage result{std::vector<float>(static_cast<size_t>(image.channels) *
                                           static_cast<size_t>(height) * static_cast<size_t>(width),
                                       0.0f),
                    image.channels, height, width};
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < height; ++y) {
      const int source_y = top + y;
      if (source_y < 0 || source_y >= image.height) continue;
      for (int x = 0; x < width; ++x) {
        const int source_x = left + x;
        if (source_x < 0 || source_x >= image.width) continue;
        result.pixels[at(result, c, y, x)] = image.pixels[at(image, c, source_y, source_x)];
      }
    }
  }
  return result;
}

FloatImage resize_bilinear(const FloatImage& image, int height, int width) {
  if (height == image.height && width == image.width) return image;
  FloatImage result{std::vector<float>(static_cast<size_t>(image.channels) *
                                       static_cast<size_t>(height) * static_cast<size_t>(width)),
                    image.channels, height, width};
  const std::vector<Tap> rows = taps(image.height, height);
  const std::vector<Tap> columns = taps(image.width, width);
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < height; ++y) {
      const Tap& row = rows[static_cast<size_t>(y)];
      for (int x = 0; x < width; ++x) {
        const Tap& column = columns[static_cast<size_t>(x)];
        const float top =
            image.pixels[at(image, c, row.low, column.low)] * (1 - column.weight_high) +
            image.pixels[at(image, c, row.low, column.high)] * column.weight_high;
        const float bottom =
            image.pixels[at(image, c, row.high, column.low)] * (1 - column.weight_high) +
            image.pixels[at(image, c, row.high, column.high)] * column.weight_high;
        result.pixels[at(result, c, y, x)] = top * (1 - row.weight_high) + bottom * row.weight_high;
      }
    }
  }
  return result;
}

RandomCrop::RandomCrop(int size, int padding) : size_(size), padding_(padding) {
  check_size(size, "random_crop");
  check_size(padding, "random_crop_padding");
}

void RandomCrop::apply(FloatImage& image, SampleRandom& random) const {
  const int padded_height = image.height + 2 * padding_;
  const int padded_width = image.width + 2 * padding_;
  if (padded_height < size_ || padded_width < size_) {
    throw ShapeError("transform " + describe() + ": image " + to_string(image.shape()) +
                     " padded is smaller than the crop");
  }
  const int top = static_cast<int>(random.integer(0, padded_height - size_)) - padding_;
  const int left = static_cast<int>(random.integer(0, padded_width - size_)) - padding_;
  image = crop(image, top, left, size_, size_);
}

std::string RandomCrop::describe() const {
  return "random_crop " + std::to_string(size_) + " pad " + std::to_string(padding_);
}

void HorizontalFlip::apply(FloatImage& image, SampleRandom& random) const {
  if (!random.coin(0.5)) return;
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < image.height; ++y) {
      float* row = image.pixels.data() + at(image, c, y, 0);
      std::reverse(row, row + image.width);
    }
  }
}

RandomResizedCrop::RandomResizedCrop(int size, double scale_min, double scale_max, double ratio_min,
                                     double ratio_max)
    : size_(size),
      scale_min_(scale_min),
      scale_max_(scale_max),
      ratio_min_(ratio_min),
      ratio_max_(ratio_max) {
  check_size(size, "random_resized_crop");
  if (!(0 < scale_min && scale_min <= scale_max && scale_max <= 1 && 0 < ratio_min &&
        ratio_min <= ratio_max)) {
    throw ConfigError("transform " + describe() + ": expected 0 < scale_min <= scale_max <= 1 " +
                      "and 0 < ratio_min <= ratio_max");
  }
}

void RandomResizedCrop::apply(FloatImage& image, SampleRandom& random) const {
  const double area = static_cast<double>(image.height) * image.width;
  const double log_ratio_min = std::log(ratio_min_);
  const double log_ratio_max = std::log(ratio_max_);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * random.uniform(scale_min_, scale_max_);
    const double aspect = std::exp(random.uniform(log_ratio_min, log_ratio_max));
    const int width = static_cast<int>(std::lround(std::sqrt(target_area * aspect)));
    const int height = static_cast<int>(std::lround(std::sqrt(target_area / aspect)));
    if (0 < width && width <= image.width && 0 < height && height <= image.height) {
      const int top = static_cast<int>(random.integer(0, image.height - height));
      const int left = static_cast<int>(random.integer(0, image.width - width));
      image = resize_bilinear(crop(image, top, left, height, width), size_, size_);
      return;
    }
  }
  // Fallback: the largest central window whose aspect ratio is inside [ratio_min, ratio_max].
  const double in_ratio = static_cast<double>(image.width) / image.height;
  int width = image.width;
  int height = image.height;
  if (in_ratio < ratio_min_) {
    height = static_cast<int>(std::lround(width / ratio_min_));
  } else if (in_ratio > ratio_max_) {
    width = static_cast<int>(std::lround(height * ratio_max_));
  }
  image = resize_bilinear(
      crop(image, (image.height - height) / 2, (image.width - width) / 2, height, width), size_,
      size_);
}

std::string RandomResizedCrop::describe() const {
  return "random_resized_crop " + std::to_string(size_) + " scale (" + std::to_string(scale_min_) +
         ", " + std::to_string(scale_max_) + ") ratio (" + std::to_string(ratio_min_) + ", " +
         std::to_string(ratio_max_) + ")";
}

Resize::Resize(int size) : size_(size) { check_size(size, "resize"); }

void Resize::apply(FloatImage& image, SampleRandom&) const {
  // torchvision truncates the longer side: int(size * long / short).
  const bool wide = image.height <= image.width;
  const int64_t longer = static_cast<int64_t>(size_) * (wide ? image.width : image.height) /
                         (wide ? image.height : image.width);
  // A sliver (5000 x 1 pixels, resized to 256) would grow to 1280000 x 256: refuse it by its
  // shape rather than end as an allocation failure naming nothing. Same bound as a stored image.
  if (static_cast<uint64_t>(image.channels) * static_cast<uint64_t>(size_) *
          static_cast<uint64_t>(longer) >
      kLargestImageBytes) {
    throw ShapeError("transform " + describe() + ": image " + to_string(image.shape()) +
                     " would become " + std::to_string(longer) + " pixels long, more than " +
                     std::to_string(kLargestImageBytes) + " values; its sides' ratio is extreme");
  }
  if (wide) {
    image = resize_bilinear(image, size_, static_cast<int>(longer));
  } else {
    image = resize_bilinear(image, static_cast<int>(longer), size_);
  }
}

CenterCrop::CenterCrop(int size) : size_(size) { check_size(size, "center_crop"); }

void CenterCrop::apply(FloatImage& image, SampleRandom&) const {
  // torchvision rounds the offset: int(round((H - size) / 2)).
  const int top = static_cast<int>(std::lround((image.height - size_) / 2.0));
  const int left = static_cast<int>(std::lround((image.width - size_) / 2.0));
  image = crop(image, top, left, size_, size_);
}

PadTo::PadTo(int size) : size_(size) { check_size(size, "pad_to"); }

void PadTo::apply(FloatImage& image, SampleRandom&) const {
  if (image.height > size_ || image.width > size_) {
    throw ShapeError("transform " + describe() + ": image " + to_string(image.shape()) +
                     " is larger than the padded size");
  }
  image = crop(image, -((size_ - image.height) / 2), -((size_ - image.width) / 2), size_, size_);
}

Pipeline::Pipeline(const TransformConfig& config)
    : mean_(config.mean), std_(config.standard_deviation) {
  if (mean_.size() != std_.size()) {
    throw ConfigError("transform config: mean has " + std::to_string(mean_.size()) +
                      " values and standard_deviation " + std::to_string(std_.size()) +
                      "; expected the same count");
  }
  for (float value : std_) {
    if (!(value > 0))
      throw ConfigError("transform config: standard_deviation values must be positive");
  }
  if (config.random_resized_crop > 0)
    transforms_.push_back(std::make_shared<RandomResizedCrop>(config.random_resized_crop));
  if (config.resize > 0) transforms_.push_back(std::make_shared<Resize>(config.resize));
  if (config.center_crop > 0)
    transforms_.push_back(std::make_shared<CenterCrop>(config.center_crop));
  if (config.pad_to > 0) transforms_.push_back(std::make_shared<PadTo>(config.pad_to));
  check_size(config.random_crop_padding, "random_crop_padding");
  if (config.random_crop > 0) {
    transforms_.push_back(
        std::make_shared<RandomCrop>(config.random_crop, config.random_crop_padding));
  } else {
    check_size(config.random_crop, "random_crop");
  }
  if (config.horizontal_flip) transforms_.push_back(std::make_shared<HorizontalFlip>());
}

FloatImage Pipeline::apply(const Image& image, uint64_t seed, int64_t epoch, int64_t index) const {
  FloatImage result{std::vector<float>(image.pixels.begin(), image.pixels.end()), image.channels,
                    image.height, image.width};
  SampleRandom random(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index));
  for (const auto& transform : transforms_) transform->apply(result, random);
  if (!mean_.empty() && mean_.size() != 1 && static_cast<int>(mean_.size()) != result.channels) {
    throw ShapeError("transform normalize: " + std::to_string(mean_.size()) +
                     " mean/standard_deviation values for an image of " +
                     std::to_string(result.channels) + " channels; expected 1 or " +
                     std::to_string(result.channels));
  }
  const size_t plane = static_cast<size_t>(result.height) * static_cast<size_t>(result.width);
  for (int c = 0; c < result.channels; ++c) {
    const size_t which = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
    const float mean = mean_.empty() ? 0.0f : mean_[which];
    const float inverse_std = mean_.empty() ? 1.0f : 1.0f / std_[which];
    float* channel = result.pixels.data() + static_cast<size_t>(c) * plane;
    for (size_t p = 0; p < plane; ++p) channel[p] = (channel[p] / 255.0f - mean) * inverse_std;
  }
  return result;
}

std::string Pipeline::describe() const {
  std::string text;
  for (const auto& transform : transforms_) text += transform->describe() + ", ";
  return text + (mean_.empty() ? "scale 1/255" : "normalize");
}

}  // namespace convoy::data
