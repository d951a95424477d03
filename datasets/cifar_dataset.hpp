#pragma once
// CIFAR-10 / CIFAR-100 binary version: fixed-size records of label byte(s) + 3x32x32 pixels.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace convoy::data {

// Which record layout and which label a CIFAR file set uses.
enum class CifarFormat {
  cifar10,          // 1 label byte (0..9) + 3072 pixel bytes
  cifar100_fine,    // coarse byte (0..19), fine byte (0..99) + 3072; label = fine
  cifar100_coarse,  // same records; label = coarse
};

// All records of the given files decoded into memory at construction (CIFAR-10 train is
// 150 MB), so read() is thread-safe.
class CifarDataset : public Dataset {
 public:
  // Files are concatenated in order. class_names empty -> the format's defaults (CIFAR-10's
  // names, or "0".."99" / "0".."19"). FileError naming the file for a size that is not a
  // multiple of the record size or a label out of range.
  CifarDataset(std::vector<std::string> files, CifarFormat format,
               std::vector<std::string> class_names = {});

  int64_t size() const override { return count_; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::optional<Shape> image_shape() const override { return Shape{3, 32, 32}; }
  Image read(int64_t index) const override;
  std::string source() const override;

 private:
  std::vector<std::string> files_;
  std::vector<std::string> class_names_;
  int64_t count_ = 0;
  std::vector<uint8_t> pixels_;  // (N, 3, 32, 32)
  std::vector<int32_t> labels_;  // (N)
};

// CIFAR-10 from the extracted "cifar-10-batches-bin" directory: split "train"
// (data_batch_1..5.bin) or "test" (test_batch.bin); names from batches.meta.txt if present.
CifarDataset open_cifar10(const std::string& dir, const std::string& split);
// CIFAR-100 from "cifar-100-binary": train.bin / test.bin; names from fine_label_names.txt
// (or coarse_label_names.txt) if present.
CifarDataset open_cifar100(const std::string& dir, const std::string& split, bool coarse = false);

}  // namespace convoy::data
