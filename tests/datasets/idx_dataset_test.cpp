#include "datasets/idx_dataset.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>

#include "datasets/file_bytes.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"
#include "support/idx_files.hpp"

namespace convoy::data {
namespace {

using testing::append_big_endian;
using testing::expect_error_mentioning;
using testing::idx_images_file;
using testing::idx_labels_file;
using testing::TemporaryDirectory;

void write_gzipped(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

// `bytes` gzipped as one member per piece, cut at `cuts`: what bgzip or `cat a.gz b.gz` write.
void write_gzip_members(const std::string& path, const std::vector<uint8_t>& bytes,
                        std::initializer_list<size_t> cuts) {
  std::vector<uint8_t> members;
  std::vector<size_t> ends(cuts);
  ends.push_back(bytes.size());
  size_t begin = 0;
  for (size_t end : ends) {
    write_gzipped(path, std::vector<uint8_t>(bytes.begin() + begin, bytes.begin() + end));
    const std::vector<uint8_t> member = read_file_bytes(path);
    members.insert(members.end(), member.begin(), member.end());
    begin = end;
  }
  write_file_bytes(path, members);
}

std::vector<std::string> ten_names() { return fashion_mnist_class_names(); }

void expect_sample(const IdxDataset& dataset, int64_t index) {
  const Image image = dataset.read(index);
  ASSERT_EQ(image.channels, 1);
  ASSERT_EQ(image.height, 3);
  ASSERT_EQ(image.width, 2);
  EXPECT_EQ(image.label, index % 10);
  for (size_t p = 0; p < 6; ++p)
    EXPECT_EQ(image.pixels[p], static_cast<uint8_t>(7 * index + p)) << p;
}

TEST(IdxDatasetTest, ReadsPlainFilesPixelByPixel) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("images"), idx_images_file(12, 3, 2));
  write_file_bytes(directory.file("labels"), idx_labels_file(12));
  const IdxDataset dataset(directory.file("images"), directory.file("labels"), ten_names());
  EXPECT_EQ(dataset.size(), 12);
  EXPECT_EQ(dataset.class_count(), 10);
  EXPECT_EQ(*dataset.image_shape(), (Shape{1, 3, 2}));
  for (int64_t i : {0, 5, 11}) expect_sample(dataset, i);
}

TEST(IdxDatasetTest, ReadsGzippedFilesLikePlainOnes) {
  TemporaryDirectory directory;
  write_gzipped(directory.file("images.gz"), idx_images_file(12, 3, 2));
  write_gzipped(directory.file("labels.gz"), idx_labels_file(12));
  const IdxDataset dataset(directory.file("images.gz"), directory.file("labels.gz"), ten_names());
  EXPECT_EQ(dataset.size(), 12);
  for (int64_t i : {0, 7, 11}) expect_sample(dataset, i);
}

// MNIST and Fashion-MNIST ship gzipped; a user who unpacked them (as torchvision's MNIST class
// does) has only the plain files, and each split takes whichever exists, the .gz first.
TEST(IdxDatasetTest, AnMnistLayoutFolderTakesGzippedOrPlainFiles) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("train-images-idx3-ubyte"), idx_images_file(12, 3, 2));
  write_file_bytes(directory.file("train-labels-idx1-ubyte"), idx_labels_file(12));
  write_gzipped(directory.file("t10k-images-idx3-ubyte.gz"), idx_images_file(4, 3, 2));
  write_gzipped(directory.file("t10k-labels-idx1-ubyte.gz"), idx_labels_file(4));
  const std::vector<std::string> digits = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  const IdxDataset train = open_mnist_layout(directory.path().string(), "train", digits);
  EXPECT_EQ(train.size(), 12);
  EXPECT_EQ(train.class_names()[3], "3");
  for (int64_t i : {0, 11}) expect_sample(train, i);
  EXPECT_EQ(open_mnist_layout(directory.path().string(), "test", digits).size(), 4);
  expect_error_mentioning<FileError>([&] { open_fashion_mnist(directory.file("none"), "test"); },
                                     {"none/t10k-images-idx3-ubyte.gz"});
}

TEST(IdxDatasetTest, WrongMagicNamesTheFileAndBothNumbers) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("images"), idx_images_file(2, 3, 2, 2049));
  write_file_bytes(directory.file("labels"), idx_labels_file(2));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images"), directory.file("labels"), ten_names()); },
      {directory.file("images"), "magic number 2049", "expected 2051"});
}

TEST(IdxDatasetTest, TruncatedImagesFileIsReportedWithSizes) {
  TemporaryDirectory directory;
  std::vector<uint8_t> images = idx_images_file(4, 3, 2);
  images.resize(images.size() - 5);
  write_file_bytes(directory.file("images"), images);
  write_file_bytes(directory.file("labels"), idx_labels_file(4));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images"), directory.file("labels"), ten_names()); },
      {directory.file("images"), "truncated", "40 bytes", "35"});
}

// 16 x 2^30 x 2^30 bytes is 2^64: a byte count that wraps to 0 would match the bare header.
TEST(IdxDatasetTest, DimensionsWhoseProductOverflowsAreReportedNotAllocated) {
  TemporaryDirectory directory;
  std::vector<uint8_t> header;  // and nothing after it
  for (uint32_t value : {2051u, 16u, 1u << 30, 1u << 30}) append_big_endian(header, value);
  write_file_bytes(directory.file("images"), header);
  write_file_bytes(directory.file("labels"), idx_labels_file(16));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images"), directory.file("labels"), ten_names()); },
      {directory.file("images"), "16 x 1073741824 x 1073741824", "corrupt"});
}

TEST(IdxDatasetTest, TruncatedGzipStreamIsReported) {
  TemporaryDirectory directory;
  write_gzipped(directory.file("images.gz"), idx_images_file(50, 8, 8));
  std::vector<uint8_t> compressed = read_file_bytes(directory.file("images.gz"));
  compressed.resize(compressed.size() / 2);
  write_file_bytes(directory.file("images.gz"), compressed);
  write_file_bytes(directory.file("labels"), idx_labels_file(50));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "truncated"});
}

// A gzip bomb: a header declaring 10 images of 28 x 28, their pixels, then 100 MB of zeros in
// about 100 kB. The whole stream was inflated (a 1 MB bomb took 1 GiB and 28 s) before the size
// was compared; now reading stops one byte past what the header declares.
TEST(IdxDatasetTest, GzipBombIsRefusedOneBytePastTheDeclaredSize) {
  TemporaryDirectory directory;
  const std::string path = directory.file("images.gz");
  gzFile file = gzopen(path.c_str(), "wb1");
  ASSERT_NE(file, nullptr);
  const std::vector<uint8_t> images = idx_images_file(10, 28, 28);
  ASSERT_EQ(gzwrite(file, images.data(), static_cast<unsigned>(images.size())),
            static_cast<int>(images.size()));
  const std::vector<uint8_t> zeros(1 << 20, 0);
  for (int megabyte = 0; megabyte < 100; ++megabyte)
    ASSERT_EQ(gzwrite(file, zeros.data(), static_cast<unsigned>(zeros.size())), 1 << 20);
  ASSERT_EQ(gzclose(file), Z_OK);
  write_file_bytes(directory.file("labels"), idx_labels_file(10));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(path, directory.file("labels"), ten_names()); },
      {path, "trailing bytes", "10 x 28 x 28", "7856 bytes", "not inflated further"});
}

// 2^20 images of 2^10 x 2^10 pixels is a terabyte, more than 40 compressed bytes can inflate to:
// refused from the header, before a buffer of the declared size is reserved.
TEST(IdxDatasetTest, GzipHeaderDeclaringMoreThanTheFileCanHoldIsRefusedBeforeAllocating) {
  TemporaryDirectory directory;
  std::vector<uint8_t> header;
  for (uint32_t value : {2051u, 1u << 20, 1u << 10, 1u << 10}) append_big_endian(header, value);
  write_gzipped(directory.file("images.gz"), header);
  write_file_bytes(directory.file("labels"), idx_labels_file(2));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "truncated", "1048576 x 1024 x 1024", "at most"});
}

// Only the first member was read: the images file below (cut inside its header) was reported
// as a 10-byte truncated file, though gzip -d and Python's gzip read all of it.
TEST(IdxDatasetTest, ReadsMultiMemberGzipFilesLikeSingleMemberOnes) {
  TemporaryDirectory directory;
  write_gzip_members(directory.file("images.gz"), idx_images_file(12, 3, 2), {10, 40});
  write_gzip_members(directory.file("labels.gz"), idx_labels_file(12), {9});
  const IdxDataset dataset(directory.file("images.gz"), directory.file("labels.gz"), ten_names());
  EXPECT_EQ(dataset.size(), 12);
  for (int64_t i : {0, 5, 11}) expect_sample(dataset, i);
}

// `cat a.gz a.gz` was read as the first copy alone, silently.
TEST(IdxDatasetTest, TwoConcatenatedGzipFilesAreRefusedAsTrailingBytes) {
  TemporaryDirectory directory;
  write_gzipped(directory.file("images.gz"), idx_images_file(4, 3, 2));
  std::vector<uint8_t> twice = read_file_bytes(directory.file("images.gz"));
  twice.insert(twice.end(), twice.begin(), twice.end());
  write_file_bytes(directory.file("images.gz"), twice);
  write_file_bytes(directory.file("labels"), idx_labels_file(4));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "trailing bytes", "4 x 3 x 2"});
}

TEST(IdxDatasetTest, TruncatedSecondGzipMemberNamesTheFile) {
  TemporaryDirectory directory;
  write_gzip_members(directory.file("images.gz"), idx_images_file(50, 8, 8), {1000});
  std::vector<uint8_t> compressed = read_file_bytes(directory.file("images.gz"));
  compressed.resize(compressed.size() - 20);
  write_file_bytes(directory.file("images.gz"), compressed);
  write_file_bytes(directory.file("labels"), idx_labels_file(50));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "truncated"});
}

// Reading stops at the declared size; the rest of the stream must still be inflated so that
// each member's CRC is checked.
TEST(IdxDatasetTest, GzipChecksumMismatchIsReportedAsCorrupt) {
  TemporaryDirectory directory;
  write_gzipped(directory.file("images.gz"), idx_images_file(4, 3, 2));
  std::vector<uint8_t> compressed = read_file_bytes(directory.file("images.gz"));
  compressed[compressed.size() - 8] ^= 0xff;  // the CRC-32, first of the 8 trailer bytes
  write_file_bytes(directory.file("images.gz"), compressed);
  write_file_bytes(directory.file("labels"), idx_labels_file(4));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "corrupt", "incorrect data check"});
}

// Zero padding after the last member is skipped, as gzip -d does; anything else was ignored
// silently, and now is refused.
TEST(IdxDatasetTest, GzipZeroPaddingIsSkippedOtherTrailingDataIsRefused) {
  TemporaryDirectory directory;
  write_gzipped(directory.file("images.gz"), idx_images_file(4, 3, 2));
  std::vector<uint8_t> compressed = read_file_bytes(directory.file("images.gz"));
  compressed.resize(compressed.size() + 512, 0);
  write_file_bytes(directory.file("images.gz"), compressed);
  write_file_bytes(directory.file("labels"), idx_labels_file(4));
  EXPECT_EQ(IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()).size(),
            4);
  for (uint8_t byte : {'j', 'u', 'n', 'k'}) compressed.push_back(byte);
  write_file_bytes(directory.file("images.gz"), compressed);
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "not another gzip member"});
}

TEST(IdxDatasetTest, LabelAndImageCountMismatchNamesBothFiles) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("images"), idx_images_file(4, 3, 2));
  write_file_bytes(directory.file("labels"), idx_labels_file(3));
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images"), directory.file("labels"), ten_names()); },
      {directory.file("labels"), directory.file("images"), "3 labels", "4 images"});
}

TEST(IdxDatasetTest, LabelNotBelowClassCountIsReported) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("images"), idx_images_file(4, 3, 2));
  std::vector<uint8_t> labels = idx_labels_file(4);
  labels.back() = 10;
  write_file_bytes(directory.file("labels"), labels);
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images"), directory.file("labels"), ten_names()); },
      {directory.file("labels"), "label 10", "index 3"});
}

TEST(IdxDatasetTest, MissingFileIsNamed) {
  TemporaryDirectory directory;
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("absent"), directory.file("labels"), ten_names()); },
      {directory.file("absent"), "cannot open"});
}

// Opening a FIFO blocks until a writer comes: the run hung instead of failing.
TEST(IdxDatasetTest, FifoInsteadOfAFileIsRefusedNotWaitedOn) {
  TemporaryDirectory directory;
  ASSERT_EQ(mkfifo(directory.file("images.gz").c_str(), 0600), 0);
  expect_error_mentioning<FileError>(
      [&] { IdxDataset(directory.file("images.gz"), directory.file("labels"), ten_names()); },
      {directory.file("images.gz"), "not a regular file"});
}

TEST(IdxDatasetTest, OutOfRangeIndexIsAConfigError) {
  TemporaryDirectory directory;
  write_file_bytes(directory.file("images"), idx_images_file(2, 3, 2));
  write_file_bytes(directory.file("labels"), idx_labels_file(2));
  const IdxDataset dataset(directory.file("images"), directory.file("labels"), ten_names());
  expect_error_mentioning<ConfigError>([&] { dataset.read(2); }, {"index 2", "[0, 2)"});
}

TEST(IdxDatasetTest, FashionMnistRejectsAnUnknownSplit) {
  expect_error_mentioning<ConfigError>([] { open_fashion_mnist("/nowhere", "validation"); },
                                       {"validation", "\"train\" or \"test\""});
}

TEST(IdxDatasetTest, ReadsTheInstalledFashionMnistTestSplit) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
      << "install the dataset-fashion-mnist package (scripts/setup.sh)";
  const IdxDataset dataset = open_fashion_mnist(dir, "test");
  ASSERT_EQ(dataset.size(), 10000);
  EXPECT_EQ(*dataset.image_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(dataset.class_names()[9], "Ankle boot");
  // The Fashion-MNIST test split is balanced: 1000 images per class.
  std::vector<int> per_class(10, 0);
  int64_t pixel_sum = 0;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const Image image = dataset.read(i);
    ASSERT_GE(image.label, 0);
    ASSERT_LT(image.label, 10);
    ++per_class[static_cast<size_t>(image.label)];
    if (i < 100)
      for (uint8_t pixel : image.pixels) pixel_sum += pixel;
  }
  for (int count : per_class) EXPECT_EQ(count, 1000);
  EXPECT_GT(pixel_sum, 0);
  // Known first test label: 9 (ankle boot).
  EXPECT_EQ(dataset.read(0).label, 9);
}

}  // namespace
}  // namespace convoy::data
