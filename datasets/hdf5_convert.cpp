#include "datasets/hdf5_convert.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "framework/common/hdf5_call.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

using hdf5::check;
using hdf5::checked;
using hdf5::Handle;
using hdf5::Place;
using hdf5::string_type;

Handle create_dataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims,
                      const std::vector<hsize_t>& chunk, const Place& place) {
  Handle space =
      checked([&] { return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr); },
              H5Sclose, place, "H5Screate_simple");
  Handle properties =
      checked([] { return H5Pcreate(H5P_DATASET_CREATE); }, H5Pclose, place, "H5Pcreate");
  check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()), place,
        "H5Pset_chunk");
  return checked(
      [&] {
        return H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, properties.get(),
                          H5P_DEFAULT);
      },
      H5Dclose, place, "H5Dcreate2");
}

void write_rows(hid_t dataset, hid_t type, const void* data, hsize_t first, hsize_t rows,
                std::vector<hsize_t> row_dims, const Place& place) {
  Handle file_space =
      checked([&] { return H5Dget_space(dataset); }, H5Sclose, place, "H5Dget_space");
  std::vector<hsize_t> start(row_dims.size() + 1, 0);
  start[0] = first;
  row_dims.insert(row_dims.begin(), rows);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                            row_dims.data(), nullptr),
        place, "H5Sselect_hyperslab");
  Handle memory_space = checked(
      [&] { return H5Screate_simple(static_cast<int>(row_dims.size()), row_dims.data(), nullptr); },
      H5Sclose, place, "H5Screate_simple");
  check(H5Dwrite(dataset, type, memory_space.get(), file_space.get(), H5P_DEFAULT, data), place,
        "H5Dwrite");
}

void write_attributes(hid_t file, const Dataset& dataset, const std::string& path) {
  const Place names_place{path, "class_names attribute"};
  Handle type = string_type(names_place);
  std::vector<const char*> names;
  for (const std::string& name : dataset.class_names()) names.push_back(name.c_str());
  const hsize_t count = names.size();
  Handle names_space = checked([&] { return H5Screate_simple(1, &count, nullptr); }, H5Sclose,
                               names_place, "H5Screate_simple");
  Handle names_attribute = checked(
      [&] {
        return H5Acreate2(file, "class_names", type.get(), names_space.get(), H5P_DEFAULT,
                          H5P_DEFAULT);
      },
      H5Aclose, names_place, "H5Acreate2");
  check(H5Awrite(names_attribute.get(), type.get(), names.data()), names_place, "H5Awrite");

  const Place source_place{path, "source attribute"};
  const std::string source = dataset.source();
  const char* source_text = source.c_str();
  Handle scalar =
      checked([] { return H5Screate(H5S_SCALAR); }, H5Sclose, source_place, "H5Screate");
  Handle source_attribute = checked(
      [&] {
        return H5Acreate2(file, "source", type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT);
      },
      H5Aclose, source_place, "H5Acreate2");
  check(H5Awrite(source_attribute.get(), type.get(), &source_text), source_place, "H5Awrite");
}

void write_file(const Dataset& dataset, const Shape& shape, const std::string& temporary,
                const std::string& path, int64_t chunk_images) {
  hdf5::silence_error_printing();
  const Place file_place{temporary, "/"};
  Handle file =
      checked([&] { return H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); },
              H5Fclose, file_place, "H5Fcreate");
  const auto count = static_cast<hsize_t>(dataset.size());
  const std::vector<hsize_t> row = {static_cast<hsize_t>(shape[0]), static_cast<hsize_t>(shape[1]),
                                    static_cast<hsize_t>(shape[2])};
  const auto chunk = static_cast<hsize_t>(std::min<int64_t>(chunk_images, dataset.size()));
  const Place images_place{temporary, "images"};
  const Place labels_place{temporary, "labels"};
  Handle images =
      create_dataset(file.get(), "images", H5T_STD_U8LE, {count, row[0], row[1], row[2]},
                     {chunk, row[0], row[1], row[2]}, images_place);
  Handle labels =
      create_dataset(file.get(), "labels", H5T_STD_I32LE, {count}, {chunk}, labels_place);

  const size_t image_elements = static_cast<size_t>(element_count(shape));
  std::vector<uint8_t> pixels;
  std::vector<int32_t> label_block;
  for (int64_t first = 0; first < dataset.size(); first += chunk_images) {
    const int64_t rows = std::min<int64_t>(chunk_images, dataset.size() - first);
    pixels.clear();
    label_block.clear();
    for (int64_t i = first; i < first + rows; ++i) {
      const Image image = dataset.read(i);
      if (image.shape() != shape || image.pixels.size() != image_elements) {
        throw ShapeError("converting " + dataset.source() + " to '" + path + "': sample " +
                         std::to_string(i) + " has shape " + to_string(image.shape()) +
                         ", expected " + to_string(shape));
      }
      pixels.insert(pixels.end(), image.pixels.begin(), image.pixels.end());
      label_block.push_back(image.label);
    }
    write_rows(images.get(), H5T_NATIVE_UINT8, pixels.data(), static_cast<hsize_t>(first),
               static_cast<hsize_t>(rows), row, images_place);
    write_rows(labels.get(), H5T_NATIVE_INT32, label_block.data(), static_cast<hsize_t>(first),
               static_cast<hsize_t>(rows), {}, labels_place);
  }
  write_attributes(file.get(), dataset, temporary);
  images.close(images_place, "H5Dclose");
  labels.close(labels_place, "H5Dclose");
  file.close(file_place, "H5Fclose");
}

}  // namespace

void convert_to_hdf5(const Dataset& dataset, const std::string& path, int64_t chunk_images) {
  if (chunk_images < 1) {
    throw ConfigError("convert to '" + path + "': chunk_images " + std::to_string(chunk_images) +
                      ", expected at least 1");
  }
  const std::optional<Shape> shape = dataset.image_shape();
  if (!shape) {
    throw ShapeError("convert " + dataset.source() + " to '" + path + "': image sizes vary; " +
                     "the HDF5 layout needs one (C, H, W), so resize the images first");
  }
  if (dataset.size() < 1) {
    throw ConfigError("convert " + dataset.source() + " to '" + path + "': the dataset is empty");
  }
  // Checked before any sample is read: a missing directory was reported under the temporary
  // file's name, and a directory as the output only when renaming onto it, after the whole
  // conversion.
  const std::filesystem::path directory = std::filesystem::absolute(path).parent_path();
  if (std::filesystem::is_directory(path)) {
    throw FileError("convert to '" + path +
                    "': it is a directory; expected the HDF5 file to write");
  }
  if (!std::filesystem::is_directory(directory)) {
    throw FileError("convert to '" + path + "': the directory '" + directory.string() +
                    "' does not exist");
  }
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  try {
    write_file(dataset, *shape, temporary, path, chunk_images);
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
      throw FileError("cannot rename '" + temporary + "' to '" + path + "': " + error.message());
    }
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

}  // namespace convoy::data
