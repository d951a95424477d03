#pragma once
// The interface every image source implements; the sampler, the transforms and the loader see
// only this.
//
// Why it looks this way:
// 1. read(index) is const and must be safe to call from several threads at once: the
//    BatchLoader's workers call it concurrently. Readers meet this either by holding the whole
//    (small) set in immutable memory after construction (IDX, CIFAR, synthetic), by opening the
//    file anew on each call (image folder), or by relying on the thread-safe HDF5 build
//    (Hdf5Dataset). None of them keeps a mutable cursor.
// 2. Pixels stay uint8 until the transform pipeline: a reader does no arithmetic, so the same
//    reader serves training (augmented) and evaluation (not augmented).
// 3. image_shape() is empty when sizes vary (an image folder of photos); the pipeline then
//    needs a resize or crop to give the loader equal-sized samples.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datasets/image.hpp"
#include "framework/common/shape.hpp"

namespace convoy::data {

// A finite, indexable set of labelled images.
class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual int class_count() const { return static_cast<int>(class_names().size()); }
  virtual const std::vector<std::string>& class_names() const = 0;
  // (C, H, W) when every image has that shape; std::nullopt when sizes vary.
  virtual std::optional<Shape> image_shape() const = 0;
  // Sample `index` in [0, size()); thread-safe (see the note at the top of this file).
  virtual Image read(int64_t index) const = 0;
  // Where the samples come from, e.g. "IDX /data/train-images-idx3-ubyte.gz"; stored by
  // convert_to_hdf5 as the "source" attribute.
  virtual std::string source() const = 0;
  // Where sample `index` comes from, for messages about it: "<source()> sample <index>", or its
  // file where a reader has one file per sample.
  virtual std::string describe_sample(int64_t index) const;

 protected:
  // Throws ConfigError naming source() when index is outside [0, size()).
  void check_index(int64_t index) const;
};

}  // namespace convoy::data
