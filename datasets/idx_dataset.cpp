#include "datasets/idx_dataset.hpp"

#include <filesystem>
#include <limits>

#include "datasets/file_bytes.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// IDX magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803;  // 2051
constexpr uint32_t kLabelsMagic = 0x00000801;  // 2049

uint32_t read_big_endian(const std::vector<uint8_t>& bytes, size_t offset) {
  return static_cast<uint32_t>(bytes[offset]) << 24 |
         static_cast<uint32_t>(bytes[offset + 1]) << 16 |
         static_cast<uint32_t>(bytes[offset + 2]) << 8 | static_cast<uint32_t>(bytes[offset + 3]);
}

// Checks magic and size and returns the dimensions listed in the header.
std::vector<int64_t> parse_header(const std::vector<uint8_t>& bytes, const std::string& path,
                                  uint32_t magic, const char* kind) {
  const std::string where = "IDX " + std::string(kind) + " file '" + path + "'";
  const size_t dimensions = magic & 0xff;
  const size_t header_bytes = 4 + 4 * dimensions;
  if (bytes.size() < header_bytes) {
    throw FileError(where + " is truncated: " + std::to_string(bytes.size()) +
                    " bytes, shorter than its " + std::to_string(header_bytes) + "-byte header");
  }
  const uint32_t found = read_big_endian(bytes, 0);
  if (found != magic) {
    throw FileError(where + " has magic number " + std::to_string(found) + ", expected " +
                    std::to_string(magic) + " (is it the right file, or an IDX file at all?)");
  }
  std::vector<int64_t> sizes;
  std::string declared;  // "16 x 28 x 28", for messages
  for (size_t d = 0; d < dimensions; ++d) {
    sizes.push_back(read_big_endian(bytes, 4 + 4 * d));
    declared += (d > 0 ? " x " : "") + std::to_string(sizes.back());
    if (sizes.back() <= 0 || sizes.back() > (1 << 30)) {
      throw FileError(where + " declares dimension " + std::to_string(d) + " of size " +
                      std::to_string(sizes.back()) + ", expected a positive size");
    }
  }
  // Three sizes of up to 2^30 each can multiply past 2^64 and wrap around to a small count
  // that matches the file; such a header is corrupt, whatever the file's length.
  int64_t payload = 1;
  for (int64_t size : sizes) {
    if (size > std::numeric_limits<int64_t>::max() / payload) {
      throw FileError(where + " declares dimensions " + declared +
                      ", more bytes than a 64-bit count holds; the header is corrupt");
    }
    payload *= size;
  }
  const size_t expected = header_bytes + static_cast<size_t>(payload);
  if (bytes.size() != expected) {
    throw FileError(where + (bytes.size() < expected ? " is truncated" : " has trailing bytes") +
                    ": its header promises " + std::to_string(expected) +
                    " bytes, the (decompressed) file has " + std::to_string(bytes.size()));
  }
  return sizes;
}

std::string pick_existing(const std::string& gzipped) {
  if (std::filesystem::exists(gzipped)) return gzipped;
  const std::string plain = gzipped.substr(0, gzipped.size() - 3);
  return std::filesystem::exists(plain) ? plain : gzipped;  // a missing file is reported by read
}

}  // namespace

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path,
                       std::vector<std::string> class_names)
    : images_path_(images_path), class_names_(std::move(class_names)) {
  std::vector<uint8_t> images = read_maybe_gzipped(images_path);
  const std::vector<int64_t> image_sizes =
      parse_header(images, images_path, kImagesMagic, "images");
  std::vector<uint8_t> labels = read_maybe_gzipped(labels_path);
  const std::vector<int64_t> label_sizes =
      parse_header(labels, labels_path, kLabelsMagic, "labels");
  if (image_sizes[0] != label_sizes[0]) {
    throw FileError("IDX labels file '" + labels_path + "' holds " +
                    std::to_string(label_sizes[0]) + " labels but images file '" + images_path +
                    "' holds " + std::to_string(image_sizes[0]) + " images; expected equal counts");
  }
  count_ = image_sizes[0];
  height_ = static_cast<int>(image_sizes[1]);
  width_ = static_cast<int>(image_sizes[2]);
  pixels_.assign(images.begin() + 16, images.end());
  labels_.reserve(static_cast<size_t>(count_));
  for (int64_t i = 0; i < count_; ++i) {
    const int32_t label = labels[8 + static_cast<size_t>(i)];
    if (label >= static_cast<int32_t>(class_names_.size())) {
      throw FileError("IDX labels file '" + labels_path + "': label " + std::to_string(label) +
                      " at index " + std::to_string(i) + " is not below the class count " +
                      std::to_string(class_names_.size()));
    }
    labels_.push_back(label);
  }
}

Image IdxDataset::read(int64_t index) const {
  check_index(index);
  const size_t pixels_per_image = static_cast<size_t>(height_) * static_cast<size_t>(width_);
  const auto first =
      pixels_.begin() + static_cast<std::ptrdiff_t>(pixels_per_image * static_cast<size_t>(index));
  return Image{std::vector<uint8_t>(first, first + static_cast<std::ptrdiff_t>(pixels_per_image)),
               1, height_, width_, labels_[static_cast<size_t>(index)]};
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

IdxDataset open_fashion_mnist(const std::string& dir, const std::string& split) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    throw ConfigError("Fashion-MNIST split '" + split +
                      "' is unknown; expected \"train\" or \"test\"");
  }
  const std::filesystem::path root(dir);
  return IdxDataset(pick_existing((root / (prefix + "-images-idx3-ubyte.gz")).string()),
                    pick_existing((root / (prefix + "-labels-idx1-ubyte.gz")).string()),
                    fashion_mnist_class_names());
}

}  // namespace convoy::data
