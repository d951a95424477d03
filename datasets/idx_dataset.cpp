#include "datasets/idx_dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <span>

#include "datasets/maybe_gzipped_reader.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// IDX magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803;  // 2051
constexpr uint32_t kLabelsMagic = 0x00000801;  // 2049

uint32_t read_big_endian(const uint8_t* bytes) {
  return static_cast<uint32_t>(bytes[0]) << 24 | static_cast<uint32_t>(bytes[1]) << 16 |
         static_cast<uint32_t>(bytes[2]) << 8 | static_cast<uint32_t>(bytes[3]);
}

// "16 x 28 x 28", for messages.
std::string joined(const std::vector<int64_t>& sizes) {
  std::string text;
  for (size_t d = 0; d < sizes.size(); ++d) text += (d > 0 ? " x " : "") + std::to_string(sizes[d]);
  return text;
}

// Checks the magic and returns the dimensions the header lists, each positive and their product
// (the payload's byte count) within 64 bits.
std::vector<int64_t> parse_header(const std::vector<uint8_t>& header, const std::string& where,
                                  uint32_t magic) {
  const uint32_t found = read_big_endian(header.data());
  if (found != magic) {
    throw FileError(where + " has magic number " + std::to_string(found) + ", expected " +
                    std::to_string(magic) + " (is it the right file, or an IDX file at all?)");
  }
  std::vector<int64_t> sizes;
  for (size_t d = 0; d < (magic & 0xff); ++d) {
    sizes.push_back(read_big_endian(header.data() + 4 + 4 * d));
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
      throw FileError(where + " declares dimensions " + joined(sizes) +
                      ", more bytes than a 64-bit count holds; the header is corrupt");
    }
    payload *= size;
  }
  return sizes;
}

// An IDX file's dimensions and the bytes after its header.
struct IdxContents {
  std::vector<int64_t> sizes;
  std::vector<uint8_t> payload;
};

// Reads the header first and then exactly the bytes it declares, so a gzip bomb (a small .gz
// that inflates to gigabytes behind a header declaring a few images) is refused one byte past
// the declared size, and no buffer ever grows beyond what the header declares.
IdxContents read_idx(const std::string& path, uint32_t magic, const char* kind) {
  const std::string where = "IDX " + std::string(kind) + " file '" + path + "'";
  MaybeGzippedReader reader(path);
  const std::string has = reader.gzipped() ? "the decompressed stream has " : "the file has ";
  std::vector<uint8_t> header(4 + 4 * (magic & 0xff));
  const size_t header_read = reader.read(header);
  if (header_read < header.size()) {
    throw FileError(where + " is truncated: " + has + std::to_string(header_read) +
                    " bytes, shorter than its " + std::to_string(header.size()) + "-byte header");
  }
  IdxContents contents{parse_header(header, where, magic), {}};
  size_t payload = 1;
  for (int64_t size : contents.sizes) payload *= static_cast<size_t>(size);
  const uint64_t expected = header.size() + payload;
  const std::string promise = " its header declares " + joined(contents.sizes) + " (" +
                              std::to_string(expected) + " bytes with the header), ";
  // Before allocating: a few corrupt header bytes must not reserve terabytes.
  if (expected > reader.max_size()) {
    throw FileError(where + " is truncated:" + promise +
                    (reader.gzipped() ? "more than its " + std::to_string(reader.file_size()) +
                                            " compressed bytes can inflate to (at most " +
                                            std::to_string(reader.max_size()) + ")"
                                      : "the file has " + std::to_string(reader.file_size())));
  }
  // Grown chunk by chunk, so a stream that ends short never fills the whole declared size.
  constexpr size_t kChunkBytes = size_t{1} << 22;
  contents.payload.reserve(payload);
  while (contents.payload.size() < payload) {
    const size_t offset = contents.payload.size();
    contents.payload.resize(std::min(offset + kChunkBytes, payload));
    const size_t got = reader.read(std::span(contents.payload).subspan(offset));
    if (offset + got < contents.payload.size()) {
      throw FileError(where + " is truncated:" + promise + has +
                      std::to_string(header.size() + offset + got));
    }
  }
  uint8_t extra = 0;
  if (reader.read(std::span(&extra, 1)) > 0) {
    throw FileError(where + " has trailing bytes:" + promise +
                    (reader.gzipped() ? "the decompressed stream holds more (not inflated further)"
                                      : "the file has " + std::to_string(reader.file_size())));
  }
  return contents;
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
  IdxContents images = read_idx(images_path, kImagesMagic, "images");
  const IdxContents labels = read_idx(labels_path, kLabelsMagic, "labels");
  if (images.sizes[0] != labels.sizes[0]) {
    throw FileError("IDX labels file '" + labels_path + "' holds " +
                    std::to_string(labels.sizes[0]) + " labels but images file '" + images_path +
                    "' holds " + std::to_string(images.sizes[0]) +
                    " images; expected equal counts");
  }
  count_ = images.sizes[0];
  height_ = static_cast<int>(images.sizes[1]);
  width_ = static_cast<int>(images.sizes[2]);
  pixels_ = std::move(images.payload);
  labels_.reserve(static_cast<size_t>(count_));
  for (int64_t i = 0; i < count_; ++i) {
    const int32_t label = labels.payload[static_cast<size_t>(i)];
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

IdxDataset open_mnist_layout(const std::string& dir, const std::string& split,
                             std::vector<std::string> class_names) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    throw ConfigError("MNIST-layout split '" + split +
                      "' is unknown; expected \"train\" or \"test\"");
  }
  const std::filesystem::path root(dir);
  return IdxDataset(pick_existing((root / (prefix + "-images-idx3-ubyte.gz")).string()),
                    pick_existing((root / (prefix + "-labels-idx1-ubyte.gz")).string()),
                    std::move(class_names));
}

IdxDataset open_fashion_mnist(const std::string& dir, const std::string& split) {
  return open_mnist_layout(dir, split, fashion_mnist_class_names());
}

}  // namespace convoy::data
