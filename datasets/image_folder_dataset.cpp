#include "datasets/image_folder_dataset.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

namespace fs = std::filesystem;

bool has_image_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

}  // namespace

ImageFolderDataset::ImageFolderDataset(const std::string& root, int channels)
    : root_(root), channels_(channels) {
  if (channels != 1 && channels != 3) {
    throw ConfigError("image folder '" + root + "': channels " + std::to_string(channels) +
                      ", expected 1 or 3");
  }
  if (!fs::is_directory(root)) {
    throw FileError("image folder '" + root + "' does not exist or is not a directory");
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) class_names_.push_back(entry.path().filename().string());
  }
  std::sort(class_names_.begin(), class_names_.end());
  if (class_names_.empty()) {
    throw FileError("image folder '" + root + "' has no class sub-directories; expected " +
                    "root/<class>/<image>.jpg|.jpeg|.png");
  }
  for (size_t label = 0; label < class_names_.size(); ++label) {
    std::vector<std::string> class_files;
    const fs::path class_dir = fs::path(root) / class_names_[label];
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(
             class_dir, fs::directory_options::follow_directory_symlink)) {
      if (entry.is_regular_file() && has_image_extension(entry.path())) {
        class_files.push_back(entry.path().string());
      }
    }
    if (class_files.empty()) {
      throw FileError("image folder '" + root + "': class folder '" + class_names_[label] +
                      "' holds no .jpg, .jpeg or .png file");
    }
    std::sort(class_files.begin(), class_files.end());
    files_.insert(files_.end(), class_files.begin(), class_files.end());
    labels_.insert(labels_.end(), class_files.size(), static_cast<int32_t>(label));
  }
}

Image ImageFolderDataset::read(int64_t index) const {
  check_index(index);
  const std::string& path = files_[static_cast<size_t>(index)];
  Image image = decode_image(read_file_bytes(path), channels_, path);
  image.label = labels_[static_cast<size_t>(index)];
  return image;
}

}  // namespace convoy::data
