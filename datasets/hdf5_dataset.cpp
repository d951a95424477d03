#include "datasets/hdf5_dataset.hpp"

#include <algorithm>
#include <mutex>

#include "datasets/image_limits.hpp"
#include "framework/common/hdf5_call.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

using hdf5::check;
using hdf5::checked;
using hdf5::Handle;
using hdf5::Place;

// Without a thread-safe HDF5 build, concurrent calls corrupt the library's global state.
std::unique_lock<std::mutex> lock_if_not_threadsafe() {
#ifdef H5_HAVE_THREADSAFE
  return {};
#else
  static std::mutex library_mutex;
  return std::unique_lock<std::mutex>(library_mutex);
#endif
}

void expect_type(hid_t dataset, hid_t expected, const Place& place, const char* what) {
  Handle type = checked([&] { return H5Dget_type(dataset); }, H5Tclose, place, "H5Dget_type");
  // Compare class, size and sign rather than exact identity so a big-endian file still reads
  // (H5Dread converts byte order).
  const bool same = H5Tget_class(type.get()) == H5T_INTEGER &&
                    H5Tget_size(type.get()) == H5Tget_size(expected) &&
                    H5Tget_sign(type.get()) == H5Tget_sign(expected);
  if (!same) {
    throw FileError("HDF5 file '" + place.file + "': dataset '" + place.object + "' must hold " +
                    what);
  }
}

std::vector<std::string> read_string_list(hid_t file, const Place& place) {
  if (check(H5Aexists(file, "class_names"), place, "H5Aexists") == 0) return {};
  Handle attribute = checked([&] { return H5Aopen(file, "class_names", H5P_DEFAULT); }, H5Aclose,
                             place, "H5Aopen");
  Handle space =
      checked([&] { return H5Aget_space(attribute.get()); }, H5Sclose, place, "H5Aget_space");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  check(count, place, "H5Sget_simple_extent_npoints");
  // h5py writes an empty list as a 0-element attribute, which H5Aread refused with "null
  // attribute buffer"; a file without classes names none of its labels either.
  if (count == 0) {
    throw FileError("HDF5 file '" + place.file +
                    "': the class_names attribute holds no names; expected one per class "
                    "(or no attribute: the classes are then named by their labels)");
  }
  Handle type = checked([] { return H5Tcopy(H5T_C_S1); }, H5Tclose, place, "H5Tcopy");
  check(H5Tset_size(type.get(), H5T_VARIABLE), place, "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), place, "H5Tset_cset");
  std::vector<char*> raw(static_cast<size_t>(count), nullptr);
  check(H5Aread(attribute.get(), type.get(), raw.data()), place,
        "H5Aread (expected variable-length strings)");
  std::vector<std::string> names;
  for (char* name : raw) names.emplace_back(name != nullptr ? name : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  return names;
}

std::string read_string(hid_t file, const char* name, const Place& place) {
  if (check(H5Aexists(file, name), place, "H5Aexists") == 0) return {};
  Handle attribute =
      checked([&] { return H5Aopen(file, name, H5P_DEFAULT); }, H5Aclose, place, "H5Aopen");
  Handle type = checked([] { return H5Tcopy(H5T_C_S1); }, H5Tclose, place, "H5Tcopy");
  check(H5Tset_size(type.get(), H5T_VARIABLE), place, "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), place, "H5Tset_cset");
  char* raw = nullptr;
  check(H5Aread(attribute.get(), type.get(), &raw), place, "H5Aread (expected a string)");
  std::string text = raw != nullptr ? raw : "";
  H5free_memory(raw);
  return text;
}

// A dataset that was never written holds no storage and reads as its fill value: a file
// declaring 2^40 samples had their labels allocated (4 TB, "out of memory" naming no file), and
// one whose writer died before the first row trained on zero images without a word.
void expect_written(hid_t dataset, const Place& place, hsize_t count, const char* what) {
  if (H5Dget_storage_size(dataset) > 0) return;
  throw FileError("HDF5 file '" + place.file + "': dataset '" + place.object + "' declares " +
                  std::to_string(count) + " " + what +
                  " but none of its data was ever written (an interrupted or hand-made file?)");
}

// The class names the labels index: the class_names attribute's, or "0" to the largest label
// when the file has none. Every label must be a valid index; FileError naming the first that
// is not, and its sample.
std::vector<std::string> checked_class_names(const std::vector<int32_t>& labels,
                                             std::vector<std::string> names,
                                             const std::string& path) {
  // Without names one corrupt label decided the class count: 100000 trained a 100001-class
  // model, 2^31 - 1 built names until memory ran out. A file with more classes must name them.
  constexpr int32_t kLargestUnnamedClassCount = 1 << 16;
  const bool named = !names.empty();
  const int32_t limit = named ? static_cast<int32_t>(names.size()) : kLargestUnnamedClassCount;
  int32_t largest = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= 0 && labels[i] < limit) {
      largest = std::max(largest, labels[i]);
      continue;
    }
    std::string expected = "is negative";
    if (labels[i] >= 0 && named) {
      expected =
          "is not below the " + std::to_string(limit) + " entries of the class_names attribute";
    } else if (labels[i] >= 0) {
      expected = "is not below " + std::to_string(limit) +
                 ", the most classes a file without a class_names attribute may have";
    }
    throw FileError("HDF5 file '" + path + "': label " + std::to_string(labels[i]) + " of sample " +
                    std::to_string(i) + " " + expected);
  }
  for (int32_t c = static_cast<int32_t>(names.size()); c <= largest; ++c) {
    names.push_back(std::to_string(c));
  }
  return names;
}

}  // namespace

struct Hdf5Dataset::Handles {
  Handle file;
  Handle images;
};

Hdf5Dataset::Hdf5Dataset(const std::string& path)
    : path_(path), handles_(std::make_unique<Handles>()) {
  auto lock = lock_if_not_threadsafe();
  hdf5::silence_error_printing();
  handles_->file = checked([&] { return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); },
                           H5Fclose, {path, "/"}, "H5Fopen");
  const hid_t file = handles_->file.get();
  const Place images_place{path, "images"};
  const Place labels_place{path, "labels"};
  handles_->images = checked([&] { return H5Dopen2(file, "images", H5P_DEFAULT); }, H5Dclose,
                             images_place, "H5Dopen2");
  Handle labels = checked([&] { return H5Dopen2(file, "labels", H5P_DEFAULT); }, H5Dclose,
                          labels_place, "H5Dopen2");
  expect_type(handles_->images.get(), H5T_NATIVE_UINT8, images_place, "uint8 pixels");
  expect_type(labels.get(), H5T_NATIVE_INT32, labels_place, "int32 labels");
  const std::vector<hsize_t> image_dims = hdf5::dataset_dimensions(handles_->images.get(), images_place);
  const std::vector<hsize_t> label_dims = hdf5::dataset_dimensions(labels.get(), labels_place);
  if (image_dims.size() != 4 || image_dims[1] == 0 || image_dims[2] == 0 || image_dims[3] == 0) {
    throw FileError("HDF5 file '" + path + "': dataset 'images' has " +
                    std::to_string(image_dims.size()) +
                    " dimensions (or an empty one); expected (N, C, H, W)");
  }
  // Caught here rather than at the first read, where "index 0 is outside [0, 0)" would not say
  // which file is at fault.
  if (image_dims[0] == 0) {
    throw FileError("HDF5 file '" + path +
                    "': dataset 'images' holds no samples (N = 0 in (N, C, H, W)); expected at "
                    "least one");
  }
  if (label_dims.size() != 1 || label_dims[0] != image_dims[0]) {
    throw FileError(
        "HDF5 file '" + path + "': dataset 'labels' must be 1-D with one label per " +
        "image; 'images' holds " + std::to_string(image_dims[0]) + " images, 'labels' " +
        (label_dims.size() == 1 ? "holds " + std::to_string(label_dims[0]) + " labels"
                                : "has " + std::to_string(label_dims.size()) + " dimensions"));
  }
  // Each read() allocates one (C, H, W) row: refuse a size that could not be, naming the file,
  // before any read fails as an allocation naming nothing.
  check_image_size(image_dims[1], image_dims[2], image_dims[3],
                   "HDF5 file '" + path + "': dataset 'images'");
  image_shape_ = {static_cast<int64_t>(image_dims[1]), static_cast<int64_t>(image_dims[2]),
                  static_cast<int64_t>(image_dims[3])};
  expect_written(handles_->images.get(), images_place, image_dims[0], "images");
  expect_written(labels.get(), labels_place, label_dims[0], "labels");
  labels_.resize(label_dims[0]);
  check(H5Dread(labels.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels_.data()),
        labels_place, "H5Dread");
  class_names_ = read_string_list(file, {path, "class_names attribute"});
  original_source_ = read_string(file, "source", {path, "source attribute"});
  class_names_ = checked_class_names(labels_, std::move(class_names_), path);
}

Hdf5Dataset::~Hdf5Dataset() {
  auto lock = lock_if_not_threadsafe();
  handles_.reset();
}

Image Hdf5Dataset::read(int64_t index) const {
  check_index(index);
  Image image;
  image.channels = static_cast<int>(image_shape_[0]);
  image.height = static_cast<int>(image_shape_[1]);
  image.width = static_cast<int>(image_shape_[2]);
  image.label = labels_[static_cast<size_t>(index)];
  image.pixels.resize(static_cast<size_t>(element_count(image_shape_)));
  auto lock = lock_if_not_threadsafe();
  hdf5::silence_error_printing();  // per thread: loader workers are new threads
  const Place place{path_, "images"};
  const hid_t images = handles_->images.get();
  Handle file_space =
      checked([&] { return H5Dget_space(images); }, H5Sclose, place, "H5Dget_space");
  const hsize_t start[4] = {static_cast<hsize_t>(index), 0, 0, 0};
  const hsize_t count[4] = {1, static_cast<hsize_t>(image.channels),
                            static_cast<hsize_t>(image.height), static_cast<hsize_t>(image.width)};
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
        place, "H5Sselect_hyperslab");
  Handle memory_space = checked([&] { return H5Screate_simple(4, count, nullptr); }, H5Sclose,
                                place, "H5Screate_simple");
  check(H5Dread(images, H5T_NATIVE_UINT8, memory_space.get(), file_space.get(), H5P_DEFAULT,
                image.pixels.data()),
        {path_, "images row " + std::to_string(index)}, "H5Dread");
  return image;
}

}  // namespace convoy::data
