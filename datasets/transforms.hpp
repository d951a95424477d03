#pragma once
// Augmentation and normalization: uint8 CHW Image in, float CHW sample out.
//
// Why it works this way:
// 1. Every random draw comes from a SampleRandom keyed by (seed, epoch, sample index), created
//    per sample and consumed by the transforms in order. A sample's augmentation therefore
//    does not depend on which worker thread or rank decodes it, nor on what was decoded before:
//    loader results are identical for any worker count, and a resumed run augments as the
//    original would have.
// 2. Geometry runs on floats in [0, 255] (converted once), and normalization comes last, so
//    zero-padding means black pixels, as torchvision's Pad on a PIL image followed by ToTensor
//    and Normalize.
// 3. A recipe names a pipeline through TransformConfig; the fixed order (random-resized-crop,
//    resize, center crop, pad-to, pad+random crop, flip, normalize) is the order every common
//    recipe uses, so there is no list to get wrong.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/image.hpp"
#include "datasets/sample_random.hpp"
#include "framework/common/shape.hpp"

namespace convoy::data {

// A sample on its way through the pipeline: float pixels, (C, H, W).
struct FloatImage {
  std::vector<float> pixels;  // (C, H, W)
  int channels = 0;
  int height = 0;
  int width = 0;

  Shape shape() const { return {channels, height, width}; }
};

// One step of the pipeline. apply() is const and thread-safe; randomness only from `random`.
class Transform {
 public:
  virtual ~Transform() = default;
  virtual void apply(FloatImage& image, SampleRandom& random) const = 0;
  virtual std::string describe() const = 0;
};

// The window [top, top + height) x [left, left + width) of `image`, zeros outside it: crop,
// pad and center crop in one.
FloatImage crop(const FloatImage& image, int top, int left, int height, int width);
// Bilinear resize with half-pixel centers (PyTorch's align_corners=False), no antialiasing.
FloatImage resize_bilinear(const FloatImage& image, int height, int width);

// Zero-pads by `padding` on every side, then takes a uniformly placed size x size window
// (torchvision RandomCrop(size, padding)).
class RandomCrop : public Transform {
 public:
  RandomCrop(int size, int padding);
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override;

 private:
  int size_;
  int padding_;
};

// Mirrors left-right with probability 1/2 (torchvision RandomHorizontalFlip).
class HorizontalFlip : public Transform {
 public:
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override { return "horizontal_flip"; }
};

// torchvision RandomResizedCrop(size, scale, ratio): up to 10 tries at a window of random area
// fraction and log-uniform aspect ratio, then a center-crop fallback; resized bilinearly.
class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(int size, double scale_min = 0.08, double scale_max = 1.0,
                             double ratio_min = 3.0 / 4.0, double ratio_max = 4.0 / 3.0);
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override;

 private:
  int size_;
  double scale_min_, scale_max_, ratio_min_, ratio_max_;
};

// Resizes the shorter side to `size`, keeping the aspect ratio (torchvision Resize(int)).
class Resize : public Transform {
 public:
  explicit Resize(int size);
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override { return "resize " + std::to_string(size_); }

 private:
  int size_;
};

// The central size x size window, zero-padded if the image is smaller (torchvision CenterCrop).
class CenterCrop : public Transform {
 public:
  explicit CenterCrop(int size);
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override { return "center_crop " + std::to_string(size_); }

 private:
  int size_;
};

// Zero-pads symmetrically to size x size (Fashion-MNIST 28x28 -> 32x32 for VGG); the odd pixel,
// if any, goes to the bottom/right. ShapeError if the image is larger.
class PadTo : public Transform {
 public:
  explicit PadTo(int size);
  void apply(FloatImage& image, SampleRandom& random) const override;
  std::string describe() const override { return "pad_to " + std::to_string(size_); }

 private:
  int size_;
};

// What a recipe writes to choose its pipeline; 0 / false / empty turns a step off.
struct TransformConfig {
  int random_resized_crop = 0;  // output size (ImageNet-style training)
  int resize = 0;               // shorter side (evaluation)
  int center_crop = 0;          // output size (evaluation)
  int pad_to = 0;               // zero-pad to size x size
  int random_crop = 0;          // output size, after zero-padding by random_crop_padding
  int random_crop_padding = 0;
  bool horizontal_flip = false;
  // Per-channel (x / 255 - mean) / standard_deviation; empty = plain x / 255; one value = every
  // channel.
  std::vector<float> mean;
  std::vector<float> standard_deviation;
};

// The ordered transforms of one TransformConfig plus the final normalization.
class Pipeline {
 public:
  Pipeline() = default;  // no augmentation: x / 255
  // ConfigError naming the field for a negative size or mismatched mean/std lengths.
  explicit Pipeline(const TransformConfig& config);

  // Sample `index` of `epoch`, transformed with draws keyed by (seed, epoch, index).
  FloatImage apply(const Image& image, uint64_t seed, int64_t epoch, int64_t index) const;
  // "random_crop 32 pad 4, horizontal_flip, normalize" for logs.
  std::string describe() const;

 private:
  std::vector<std::shared_ptr<const Transform>> transforms_;
  std::vector<float> mean_;
  std::vector<float> std_;
};

}  // namespace convoy::data
