#pragma once
// MNIST-style IDX files (images idx3 + labels idx1), plain or gzipped: Fashion-MNIST, MNIST.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace convoy::data {

// The whole set decoded into memory at construction (Fashion-MNIST train is 47 MB), so read()
// is a copy out of immutable storage and safe from any thread.
class IdxDataset : public Dataset {
 public:
  // Validates both files (magic 2051/2049, dimensions, equal counts, file size against the
  // header, labels < class_names.size()) and throws FileError naming the file and the problem.
  IdxDataset(const std::string& images_path, const std::string& labels_path,
             std::vector<std::string> class_names);

  int64_t size() const override { return count_; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::optional<Shape> image_shape() const override { return Shape{1, height_, width_}; }
  Image read(int64_t index) const override;
  std::string source() const override { return "IDX " + images_path_; }

 private:
  std::string images_path_;
  std::vector<std::string> class_names_;
  int64_t count_ = 0;
  int height_ = 0;
  int width_ = 0;
  std::vector<uint8_t> pixels_;  // (N, H, W)
  std::vector<int32_t> labels_;  // (N)
};

// The ten Fashion-MNIST classes in label order.
const std::vector<std::string>& fashion_mnist_class_names();

// A split "train" or "test" of a folder in MNIST's layout (train-images-idx3-ubyte.gz,
// t10k-labels-idx1-ubyte.gz, ...), as MNIST and Fashion-MNIST ship; takes the .gz files, or the
// uncompressed ones if only those exist. ConfigError for another split name.
IdxDataset open_mnist_layout(const std::string& dir, const std::string& split,
                             std::vector<std::string> class_names);
// Fashion-MNIST from `dir` (default install: /usr/share/datasets/fashion-mnist).
IdxDataset open_fashion_mnist(const std::string& dir, const std::string& split);

}  // namespace convoy::data
