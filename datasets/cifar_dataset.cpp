#include "datasets/cifar_dataset.hpp"

#include <filesystem>
#include <fstream>

#include "datasets/file_bytes.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

constexpr size_t kPixelsPerImage = 3 * 32 * 32;

size_t label_bytes(CifarFormat format) { return format == CifarFormat::cifar10 ? 1 : 2; }

int class_count_of(CifarFormat format) {
  switch (format) {
    case CifarFormat::cifar10:
      return 10;
    case CifarFormat::cifar100_fine:
      return 100;
    case CifarFormat::cifar100_coarse:
      return 20;
  }
  return 0;
}

std::vector<std::string> default_names(CifarFormat format) {
  if (format == CifarFormat::cifar10) {
    return {"airplane", "automobile", "bird",  "cat",  "deer",
            "dog",      "frog",       "horse", "ship", "truck"};
  }
  std::vector<std::string> names;
  for (int i = 0; i < class_count_of(format); ++i) names.push_back(std::to_string(i));
  return names;
}

// Non-empty lines of a names file, or empty if the file does not exist.
std::vector<std::string> read_names(const std::filesystem::path& path) {
  std::vector<std::string> names;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

void check_split(const std::string& split, const char* which) {
  if (split != "train" && split != "test") {
    throw ConfigError(std::string(which) + " split '" + split +
                      "' is unknown; expected \"train\" or \"test\"");
  }
}

}  // namespace

CifarDataset::CifarDataset(std::vector<std::string> files, CifarFormat format,
                           std::vector<std::string> class_names)
    : files_(std::move(files)), class_names_(std::move(class_names)) {
  if (class_names_.empty()) class_names_ = default_names(format);
  const int classes = class_count_of(format);
  if (static_cast<int>(class_names_.size()) != classes) {
    throw FileError("CIFAR class names for " + source() + ": got " +
                    std::to_string(class_names_.size()) + " names, expected " +
                    std::to_string(classes));
  }
  const size_t record = label_bytes(format) + kPixelsPerImage;
  for (const std::string& path : files_) {
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    if (bytes.empty() || bytes.size() % record != 0) {
      throw FileError("CIFAR file '" + path + "' has " + std::to_string(bytes.size()) +
                      " bytes, not a positive multiple of the " + std::to_string(record) +
                      "-byte record (truncated, or not this CIFAR variant?)");
    }
    const size_t records = bytes.size() / record;
    for (size_t r = 0; r < records; ++r) {
      const uint8_t* start = bytes.data() + r * record;
      const int32_t label =
          format == CifarFormat::cifar100_coarse ? start[0] : start[label_bytes(format) - 1];
      // The fine labels' records also carry a coarse label, checked so a corrupt record is not
      // taken; it has its own message, since naming the (valid) fine label misleads.
      const int32_t coarse = format == CifarFormat::cifar100_fine ? start[0] : 0;
      if (label >= classes || coarse >= 20) {
        const bool fine_ok = label < classes;
        throw FileError("CIFAR file '" + path + "': record " + std::to_string(r) + " has " +
                        (fine_ok ? "coarse label " + std::to_string(coarse) + ", expected below 20"
                                 : "label " + std::to_string(label) + ", expected below " +
                                       std::to_string(classes)) +
                        " (wrong CIFAR variant?)");
      }
      labels_.push_back(label);
      pixels_.insert(pixels_.end(), start + label_bytes(format), start + record);
    }
  }
  count_ = static_cast<int64_t>(labels_.size());
}

Image CifarDataset::read(int64_t index) const {
  check_index(index);
  const auto first =
      pixels_.begin() + static_cast<std::ptrdiff_t>(kPixelsPerImage * static_cast<size_t>(index));
  return Image{std::vector<uint8_t>(first, first + kPixelsPerImage), 3, 32, 32,
               labels_[static_cast<size_t>(index)]};
}

std::string CifarDataset::source() const {
  std::string text = "CIFAR";
  for (const std::string& file : files_) text += " " + file;
  return text;
}

CifarDataset open_cifar10(const std::string& dir, const std::string& split) {
  check_split(split, "CIFAR-10");
  const std::filesystem::path root(dir);
  std::vector<std::string> files;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i)
      files.push_back((root / ("data_batch_" + std::to_string(i) + ".bin")).string());
  } else {
    files.push_back((root / "test_batch.bin").string());
  }
  return CifarDataset(files, CifarFormat::cifar10, read_names(root / "batches.meta.txt"));
}

CifarDataset open_cifar100(const std::string& dir, const std::string& split, bool coarse) {
  check_split(split, "CIFAR-100");
  const std::filesystem::path root(dir);
  return CifarDataset(
      {(root / (split + ".bin")).string()},
      coarse ? CifarFormat::cifar100_coarse : CifarFormat::cifar100_fine,
      read_names(root / (coarse ? "coarse_label_names.txt" : "fine_label_names.txt")));
}

}  // namespace convoy::data
