#include "datasets/cifar_dataset.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "datasets/file_bytes.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

using testing::expect_error_mentioning;
using testing::TemporaryDirectory;

// `count` records; record r has label bytes `labels(r)` and pixel p = (r * 11 + p) mod 256 + base.
std::vector<uint8_t> records(int count, int label_bytes, int base) {
  std::vector<uint8_t> bytes;
  for (int r = 0; r < count; ++r) {
    if (label_bytes == 2) bytes.push_back(static_cast<uint8_t>(r % 20));  // coarse
    bytes.push_back(static_cast<uint8_t>(label_bytes == 2 ? (r * 7) % 100 : r % 10));
    for (int p = 0; p < 3072; ++p) bytes.push_back(static_cast<uint8_t>(r * 11 + p + base));
  }
  return bytes;
}

TEST(CifarDatasetTest, ReadsCifar10RecordsAcrossFilesInOrder) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("a.bin"), records(3, 1, 0));
  write_file_bytes(directory.file("b.bin"), records(2, 1, 100));
  const CifarDataset dataset({directory.file("a.bin"), directory.file("b.bin")},
                             CifarFormat::cifar10);
  ASSERT_EQ(dataset.size(), 5);
  EXPECT_EQ(*dataset.image_shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(dataset.class_names()[0], "airplane");
  const Image image = dataset.read(4);  // record 1 of b.bin
  EXPECT_EQ(image.label, 1);
  ASSERT_EQ(image.pixels.size(), 3072u);
  EXPECT_EQ(image.pixels[0], static_cast<uint8_t>(11 + 100));
  EXPECT_EQ(image.pixels[1024], static_cast<uint8_t>(11 + 1024 + 100));  // first green pixel
  EXPECT_EQ(dataset.read(2).label, 2);
}

TEST(CifarDatasetTest, Cifar100UsesFineOrCoarseLabel) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("train.bin"), records(25, 2, 0));
  const CifarDataset fine = open_cifar100(directory.path().string(), "train");
  const CifarDataset coarse = open_cifar100(directory.path().string(), "train", /*coarse=*/true);
  EXPECT_EQ(fine.class_count(), 100);
  EXPECT_EQ(coarse.class_count(), 20);
  EXPECT_EQ(fine.read(21).label, (21 * 7) % 100);
  EXPECT_EQ(coarse.read(21).label, 1);
  EXPECT_EQ(fine.read(21).pixels[5], static_cast<uint8_t>(21 * 11 + 5));
}

TEST(CifarDatasetTest, Cifar10SplitReadsNamesFile) {
  TemporaryDirectory directory;
  for (int i = 1; i <= 5; ++i) {
    write_file_bytes(directory.file("data_batch_" + std::to_string(i) + ".bin"), records(2, 1, i));
  }
  std::ofstream(directory.file("batches.meta.txt")) << "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n\n";
  const CifarDataset dataset = open_cifar10(directory.path().string(), "train");
  EXPECT_EQ(dataset.size(), 10);
  EXPECT_EQ(dataset.class_names()[7], "c7");
  EXPECT_EQ(dataset.read(9).pixels[0], static_cast<uint8_t>(11 + 5));
}

TEST(CifarDatasetTest, TruncatedFileNamesFileAndRecordSize) {
  TemporaryDirectory directory;
  std::vector<uint8_t> bytes = records(2, 1, 0);
  bytes.pop_back();
  write_file_bytes(directory.file("test_batch.bin"), bytes);
  expect_error_mentioning<FileError>(
      [&] { open_cifar10(directory.path().string(), "test"); },
      {directory.file("test_batch.bin"), "6145 bytes", "3073-byte record"});
}

TEST(CifarDatasetTest, Cifar100FileReadAsCifar10ReportsWrongSize) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("c100.bin"), records(3, 2, 0));
  expect_error_mentioning<FileError>(
      [&] { CifarDataset({directory.file("c100.bin")}, CifarFormat::cifar10); },
      {directory.file("c100.bin"), "3073-byte record"});
}

TEST(CifarDatasetTest, LabelOutOfRangeNamesFileAndRecord) {
  TemporaryDirectory directory;
  std::vector<uint8_t> bytes = records(3, 1, 0);
  bytes[2 * 3073] = 12;
  write_file_bytes(directory.file("x.bin"), bytes);
  expect_error_mentioning<FileError>(
      [&] { CifarDataset({directory.file("x.bin")}, CifarFormat::cifar10); },
      {directory.file("x.bin"), "record 2", "label 12"});
}

// A CIFAR-100 record whose coarse label is out of range was reported by its valid fine label
// ("label 7, expected below 100").
TEST(CifarDatasetTest, CoarseLabelOutOfRangeIsNamedAsTheCoarseLabel) {
  TemporaryDirectory directory;
  std::vector<uint8_t> bytes = records(3, 2, 0);
  bytes[1 * 3074] = 20;  // record 1's coarse label; its fine label stays 7
  write_file_bytes(directory.file("train.bin"), bytes);
  expect_error_mentioning<FileError>(
      [&] { CifarDataset({directory.file("train.bin")}, CifarFormat::cifar100_fine); },
      {directory.file("train.bin"), "record 1 has coarse label 20, expected below 20"});
}

// A directory where a batch file belongs was allocated by its end offset and ended as "out of
// memory" naming no file.
TEST(CifarDatasetTest, ADirectoryInPlaceOfABatchFileIsNamed) {
  TemporaryDirectory directory;
  std::filesystem::create_directories(directory.path() / "data_batch_1.bin");
  expect_error_mentioning<FileError>(
      [&] { CifarDataset({directory.file("data_batch_1.bin")}, CifarFormat::cifar10); },
      {directory.file("data_batch_1.bin"), "is a directory, expected a file"});
}

TEST(CifarDatasetTest, WrongNumberOfClassNamesIsReported) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("x.bin"), records(1, 1, 0));
  expect_error_mentioning<FileError>(
      [&] {
        CifarDataset({directory.file("x.bin")}, CifarFormat::cifar10, {"a", "b"});
      },
      {"2 names", "expected 10"});
}

}  // namespace
}  // namespace convoy::data
