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

[[noreturn]] void throw_unlistable(const std::string& root, const fs::path& path,
                                   const std::error_code& error) {
  throw FileError("image folder '" + root + "': cannot list '" + path.string() +
                  "': " + error.message());
}

// The image files under `class_dir`, following links to folders (datasets are often assembled
// from links). A link back to a folder that holds it sent the walk round and round, listing the
// same images again at every turn, until the path held too many links for the kernel (ELOOP):
// FileError naming the link's path and the folder it leads back to.
std::vector<std::string> image_files_under(const std::string& root, const fs::path& class_dir) {
  std::vector<std::string> files;
  fs::path at = class_dir;  // the entry in hand: std::filesystem's errors may name no path
  try {
    // The real folders from the root down to the entry in hand: the root and the class
    // folder, then one per depth of the walk.
    std::vector<fs::path> open_folders = {fs::canonical(root), fs::canonical(class_dir)};
    for (auto entry = fs::recursive_directory_iterator(
             class_dir, fs::directory_options::follow_directory_symlink);
         entry != fs::recursive_directory_iterator(); ++entry) {
      at = entry->path();
      open_folders.resize(2 + static_cast<size_t>(entry.depth()));
      if (entry->is_directory()) {
        fs::path real = fs::canonical(entry->path());
        if (std::find(open_folders.begin(), open_folders.end(), real) != open_folders.end()) {
          throw FileError("image folder '" + root + "': '" + at.string() + "' leads back to '" +
                          real.string() +
                          "', a folder it is in (a loop of symbolic links); expected a tree");
        }
        open_folders.push_back(std::move(real));
      } else if (entry->is_regular_file() && has_image_extension(entry->path())) {
        files.push_back(entry->path().string());
      }
    }
  } catch (const fs::filesystem_error& error) {
    throw_unlistable(root, at, error.code());
  }
  return files;
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
  try {
    list_files();
  } catch (const fs::filesystem_error& error) {
    // A class folder that is a link to itself (ELOOP), one that cannot be read.
    throw_unlistable(root, error.path1().empty() ? fs::path(root) : error.path1(), error.code());
  }
}

void ImageFolderDataset::list_files() {
  for (const fs::directory_entry& entry : fs::directory_iterator(root_)) {
    if (entry.is_directory()) class_names_.push_back(entry.path().filename().string());
  }
  std::sort(class_names_.begin(), class_names_.end());
  if (class_names_.empty()) {
    throw FileError("image folder '" + root_ + "' has no class sub-directories; expected " +
                    "root/<class>/<image>.jpg|.jpeg|.png");
  }
  for (size_t label = 0; label < class_names_.size(); ++label) {
    std::vector<std::string> class_files =
        image_files_under(root_, fs::path(root_) / class_names_[label]);
    if (class_files.empty()) {
      throw FileError("image folder '" + root_ + "': class folder '" + class_names_[label] +
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
