#include "datasets/hdf5_dataset.hpp"

#include <gtest/gtest.h>
// The test target does not get HDF5's include directory (only convoy_core does), and Debian
// installs the serial headers under hdf5/serial/; all of hdf5.h's own includes are relative.
#include <hdf5.h>

#include <filesystem>

#include "datasets/file_bytes.hpp"
#include "datasets/hdf5_convert.hpp"
#include "datasets/image_folder_dataset.hpp"
#include "datasets/synthetic_dataset.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

using testing::expect_error_mentioning;
using testing::TemporaryDirectory;

// Writes a file by hand with the given datasets, to build malformed layouts.
void write_raw(const std::string& path, const std::vector<hsize_t>& image_dims,
               const std::vector<hsize_t>& label_dims, bool with_labels = true) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t image_space =
      H5Screate_simple(static_cast<int>(image_dims.size()), image_dims.data(), nullptr);
  const hid_t images =
      H5Dcreate2(file, "images", H5T_STD_U8LE, image_space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(images, 0);
  H5Dclose(images);
  H5Sclose(image_space);
  if (with_labels) {
    const hid_t label_space =
        H5Screate_simple(static_cast<int>(label_dims.size()), label_dims.data(), nullptr);
    const hid_t labels = H5Dcreate2(file, "labels", H5T_STD_I32LE, label_space, H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(labels, 0);
    H5Dclose(labels);
    H5Sclose(label_space);
  }
  ASSERT_GE(H5Fclose(file), 0);
}

// Chunk dimensions of the "images" dataset.
std::vector<hsize_t> image_chunk(const std::string& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t images = H5Dopen2(file, "images", H5P_DEFAULT);
  const hid_t properties = H5Dget_create_plist(images);
  std::vector<hsize_t> chunk(4, 0);
  const int rank = H5Pget_chunk(properties, 4, chunk.data());
  H5Pclose(properties);
  H5Dclose(images);
  H5Fclose(file);
  if (rank != 4) return {};
  return chunk;
}

// Replaces the labels of a converted file (same count) and, unless keep_names, removes its
// class_names attribute if it still has one.
void rewrite_labels(const std::string& path, const std::vector<int32_t>& labels, bool keep_names) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t dataset = H5Dopen2(file, "labels", H5P_DEFAULT);
  ASSERT_GE(H5Dwrite(dataset, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels.data()), 0);
  H5Dclose(dataset);
  if (!keep_names && H5Aexists(file, "class_names") > 0) {
    ASSERT_GE(H5Adelete(file, "class_names"), 0);
  }
  ASSERT_GE(H5Fclose(file), 0);
}

TEST(Hdf5DatasetTest, ConvertedFileReadsBackEverySampleAndAttribute) {
  TemporaryDirectory directory;
  const SyntheticDataset original({3, 5, 4}, 6, 23, 9);
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(original, path, 4);
  const Hdf5Dataset copy(path);
  ASSERT_EQ(copy.size(), 23);
  EXPECT_EQ(*copy.image_shape(), (Shape{3, 5, 4}));
  EXPECT_EQ(copy.class_names(), original.class_names());
  EXPECT_EQ(copy.original_source(), original.source());
  for (int64_t i = 0; i < 23; ++i) {
    const Image expected = original.read(i);
    const Image actual = copy.read(i);
    EXPECT_EQ(actual.pixels, expected.pixels) << "sample " << i;
    EXPECT_EQ(actual.label, expected.label) << "sample " << i;
    EXPECT_EQ(actual.shape(), expected.shape());
  }
  EXPECT_EQ(image_chunk(path), (std::vector<hsize_t>{4, 3, 5, 4}));
  // Atomic write: only the final file remains.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory.path()))
    ++files;
  EXPECT_EQ(files, 1);
}

TEST(Hdf5DatasetTest, ConvertReplacesAnExistingFileWhole) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(SyntheticDataset({1, 2, 2}, 2, 50, 1), path, 8);
  convert_to_hdf5(SyntheticDataset({1, 3, 3}, 3, 5, 2), path, 8);
  const Hdf5Dataset copy(path);
  EXPECT_EQ(copy.size(), 5);
  EXPECT_EQ(*copy.image_shape(), (Shape{1, 3, 3}));
  EXPECT_EQ(copy.read(4).pixels, SyntheticDataset({1, 3, 3}, 3, 5, 2).read(4).pixels);
}

TEST(Hdf5DatasetTest, ConvertRefusesImagesOfVaryingSize) {
  TemporaryDirectory directory;
  std::filesystem::create_directories(directory.path() / "photos" / "a");
  write_file_bytes(directory.file("photos/a/1.png"), {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  const ImageFolderDataset folder(directory.file("photos"));
  expect_error_mentioning<ShapeError>([&] { convert_to_hdf5(folder, directory.file("out.h5"), 4); },
                                      {directory.file("out.h5"), "image sizes vary"});
  EXPECT_FALSE(std::filesystem::exists(directory.file("out.h5")));
}

TEST(Hdf5DatasetTest, NotAnHdf5FileNamesFileAndCall) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("fake.h5"), std::vector<uint8_t>(600, 7));
  expect_error_mentioning<FileError>([&] { Hdf5Dataset(directory.file("fake.h5")); },
                                     {directory.file("fake.h5"), "H5Fopen"});
}

TEST(Hdf5DatasetTest, TruncatedFileIsReported) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(SyntheticDataset({3, 8, 8}, 4, 64, 3), path, 8);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes.resize(bytes.size() / 2);
  write_file_bytes(path, bytes);
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; }, {path, "HDF5 H5Fopen"});
}

TEST(Hdf5DatasetTest, MissingLabelsDatasetIsNamed) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {2, 1, 2, 2}, {}, /*with_labels=*/false);
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; }, {path, "'labels'", "H5Dopen2"});
}

TEST(Hdf5DatasetTest, LabelCountDifferentFromImageCountIsReported) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {3, 1, 2, 2}, {2});
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; }, {path, "3 images", "2 labels"});
}

TEST(Hdf5DatasetTest, AFileWithoutSamplesIsReportedAtOpen) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {0, 1, 2, 2}, {0});
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; }, {path, "holds no samples"});
}

TEST(Hdf5DatasetTest, ImagesWithoutFourDimensionsAreReported) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {3, 4, 4}, {3});
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; },
                                     {path, "'images' has 3 dimensions", "(N, C, H, W)"});
}

// Each read() allocated one declared (C, H, W) row: 30 GB here, "out of memory" naming no file;
// 2^31 channels wrapped to a negative int and failed a read after half a minute.
TEST(Hdf5DatasetTest, ImagesOfAHugeDeclaredSizeAreRefusedAtOpen) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {8, 3, 100000, 100000}, {8});
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; },
                                     {path, "'images' declares a 3x100000x100000 image", "bytes"});
  write_raw(path, {8, hsize_t{1} << 31, 1, 1}, {8});
  expect_error_mentioning<FileError>([&] { Hdf5Dataset{path}; },
                                     {path, "declares a 2147483648x1x1 image"});
}

// The labels of 2^40 declared samples were allocated (4 TB): "out of memory" naming no file.
TEST(Hdf5DatasetTest, SamplesThatWereNeverWrittenAreRefusedAtOpen) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  write_raw(path, {hsize_t{1} << 40, 1, 2, 2}, {hsize_t{1} << 40});
  expect_error_mentioning<FileError>(
      [&] { Hdf5Dataset{path}; },
      {path, "'images' declares 1099511627776 images but none of its data was ever written"});
}

// Without class_names the classes were "0" to the largest label: one corrupt label of 100000
// made a 100001-class model (and 2^31 - 1 built names until memory ran out).
TEST(Hdf5DatasetTest, AnUnnamedLabelBeyondTheUnnamedClassLimitNamesItsSample) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(SyntheticDataset({1, 2, 2}, 3, 4, 1), path, 2);
  rewrite_labels(path, {0, 1, 100000, 2}, /*keep_names=*/false);
  expect_error_mentioning<FileError>(
      [&] { Hdf5Dataset{path}; },
      {path, "label 100000 of sample 2 is not below 65536", "without a class_names attribute"});
  rewrite_labels(path, {0, 1, 4, 2}, /*keep_names=*/false);
  EXPECT_EQ(Hdf5Dataset(path).class_names(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

// The message named the largest label but not which sample holds it.
TEST(Hdf5DatasetTest, ALabelOutsideTheClassNamesNamesItsSample) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(SyntheticDataset({1, 2, 2}, 3, 4, 1), path, 2);
  rewrite_labels(path, {0, 1, 7, 2}, /*keep_names=*/true);
  expect_error_mentioning<FileError>(
      [&] { Hdf5Dataset{path}; },
      {path, "label 7 of sample 2 is not below the 3 entries of the class_names attribute"});
}

// h5py writes an empty list of names as an attribute of 0 strings, which H5Aread refused with
// "null attribute buffer".
TEST(Hdf5DatasetTest, AClassNamesAttributeWithoutNamesIsRefusedByName) {
  TemporaryDirectory directory;
  const std::string path = directory.file("set.h5");
  convert_to_hdf5(SyntheticDataset({1, 2, 2}, 3, 4, 1), path, 2);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Adelete(file, "class_names"), 0);
  const hsize_t none = 0;
  const hid_t space = H5Screate_simple(1, &none, nullptr);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hid_t attribute = H5Acreate2(file, "class_names", type, space, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attribute, 0);
  H5Aclose(attribute);
  H5Tclose(type);
  H5Sclose(space);
  ASSERT_GE(H5Fclose(file), 0);
  expect_error_mentioning<FileError>(
      [&] { Hdf5Dataset{path}; },
      {"HDF5 file '" + path + "': the class_names attribute holds no names; expected one per class"});
}

}  // namespace
}  // namespace convoy::data
