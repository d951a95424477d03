#pragma once
// torchvision ImageFolder layout: root/<class>/**/*.jpg|*.jpeg|*.png, one folder per class.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace convoy::data {

// Lists the files once at construction and decodes one file per read(); each read opens the
// file anew, so concurrent reads share nothing mutable.
class ImageFolderDataset : public Dataset {
 public:
  // Classes are the sub-directory names sorted by byte value and files are sorted within each
  // class, as torchvision does, so label indices and sample order match a PyTorch run.
  // `channels`: 3 converts every image to RGB, 1 to grayscale. FileError naming the root for
  // a missing root, no class folders, a class folder without images, a folder that cannot be
  // listed, or a loop of symbolic links (naming the link's path).
  explicit ImageFolderDataset(const std::string& root, int channels = 3);

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::optional<Shape> image_shape() const override { return std::nullopt; }
  // FileError naming the file for a corrupt or unreadable image.
  Image read(int64_t index) const override;
  std::string source() const override { return "image folder " + root_; }
  std::string describe_sample(int64_t index) const override {
    return "image '" + path_of(index) + "'";
  }

  const std::string& path_of(int64_t index) const { return files_[static_cast<size_t>(index)]; }

 private:
  void list_files();  // class_names_, files_ and labels_

  std::string root_;
  int channels_ = 3;
  std::vector<std::string> class_names_;
  std::vector<std::string> files_;
  std::vector<int32_t> labels_;
};

}  // namespace convoy::data
