#include "datasets/image_folder_dataset.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

using testing::expect_error_mentioning;
using testing::TemporaryDirectory;

// A smooth RGB gradient (JPEG keeps smooth images close to exact).
Image gradient(int height, int width) {
  Image image{std::vector<uint8_t>(static_cast<size_t>(3 * height * width)), 3, height, width, 0};
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        image.pixels[static_cast<size_t>((c * height + y) * width + x)] =
            static_cast<uint8_t>(40 + 60 * c + 4 * y + 2 * x);
      }
    }
  }
  return image;
}

// root/cat/b.png, root/cat/a.jpg, root/dog/x.PNG, root/dog/notes.txt
void write_folder(const TemporaryDirectory& directory) {
  std::filesystem::create_directories(directory.path() / "cat");
  std::filesystem::create_directories(directory.path() / "dog");
  write_file_bytes(directory.file("cat/b.png"), encode_png(gradient(6, 5)));
  write_file_bytes(directory.file("cat/a.jpg"), encode_jpeg(gradient(8, 8), 100));
  Image gray{std::vector<uint8_t>(12), 1, 3, 4, 0};
  for (size_t p = 0; p < gray.pixels.size(); ++p) gray.pixels[p] = static_cast<uint8_t>(20 * p);
  write_file_bytes(directory.file("dog/x.PNG"), encode_png(gray));
  write_file_bytes(directory.file("dog/notes.txt"), {'h', 'i'});
}

TEST(ImageFolderDatasetTest, ListsClassesAndFilesSortedLikeTorchvision) {
  TemporaryDirectory directory;
  write_folder(directory);
  const ImageFolderDataset dataset(directory.path().string());
  ASSERT_EQ(dataset.size(), 3);
  EXPECT_EQ(dataset.class_names(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(dataset.path_of(0), directory.file("cat/a.jpg"));
  EXPECT_EQ(dataset.path_of(1), directory.file("cat/b.png"));
  EXPECT_EQ(dataset.path_of(2), directory.file("dog/x.PNG"));
  EXPECT_FALSE(dataset.image_shape().has_value());
}

TEST(ImageFolderDatasetTest, PngDecodesExactlyAndJpegClosely) {
  TemporaryDirectory directory;
  write_folder(directory);
  const ImageFolderDataset dataset(directory.path().string());
  const Image png = dataset.read(1);
  EXPECT_EQ(png.shape(), (Shape{3, 6, 5}));
  EXPECT_EQ(png.label, 0);
  EXPECT_EQ(png.pixels, gradient(6, 5).pixels);
  const Image jpeg = dataset.read(0);
  ASSERT_EQ(jpeg.shape(), (Shape{3, 8, 8}));
  const Image original = gradient(8, 8);
  for (size_t p = 0; p < jpeg.pixels.size(); ++p) {
    EXPECT_LE(std::abs(int{jpeg.pixels[p]} - int{original.pixels[p]}), 3) << "pixel " << p;
  }
}

TEST(ImageFolderDatasetTest, GrayscaleBecomesThreeEqualChannelsOrStaysOne) {
  TemporaryDirectory directory;
  write_folder(directory);
  const Image rgb = ImageFolderDataset(directory.path().string()).read(2);
  ASSERT_EQ(rgb.shape(), (Shape{3, 3, 4}));
  EXPECT_EQ(rgb.label, 1);
  for (size_t p = 0; p < 12; ++p) {
    EXPECT_EQ(rgb.pixels[p], static_cast<uint8_t>(20 * p));
    EXPECT_EQ(rgb.pixels[12 + p], rgb.pixels[p]);
    EXPECT_EQ(rgb.pixels[24 + p], rgb.pixels[p]);
  }
  const Image gray = ImageFolderDataset(directory.path().string(), 1).read(2);
  ASSERT_EQ(gray.shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(gray.pixels[11], 220);
  const Image jpeg_gray = ImageFolderDataset(directory.path().string(), 1).read(0);
  EXPECT_EQ(jpeg_gray.shape(), (Shape{1, 8, 8}));
}

TEST(ImageFolderDatasetTest, CorruptPngNamesTheFile) {
  TemporaryDirectory directory;
  write_folder(directory);
  std::vector<uint8_t> bytes = read_file_bytes(directory.file("cat/b.png"));
  bytes.resize(bytes.size() / 2);
  write_file_bytes(directory.file("cat/b.png"), bytes);
  const ImageFolderDataset dataset(directory.path().string());
  expect_error_mentioning<FileError>([&] { dataset.read(1); },
                                     {"corrupt PNG", directory.file("cat/b.png")});
}

TEST(ImageFolderDatasetTest, TruncatedJpegNamesTheFile) {
  TemporaryDirectory directory;
  write_folder(directory);
  std::vector<uint8_t> bytes = read_file_bytes(directory.file("cat/a.jpg"));
  bytes.resize(bytes.size() * 2 / 3);
  write_file_bytes(directory.file("cat/a.jpg"), bytes);
  const ImageFolderDataset dataset(directory.path().string());
  expect_error_mentioning<FileError>([&] { dataset.read(0); },
                                     {"corrupt JPEG", directory.file("cat/a.jpg")});
}

TEST(ImageFolderDatasetTest, NonImageBytesNameTheFile) {
  TemporaryDirectory directory;
  write_folder(directory);
  write_file_bytes(directory.file("dog/x.PNG"), {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'g'});
  const ImageFolderDataset dataset(directory.path().string());
  expect_error_mentioning<FileError>([&] { dataset.read(2); },
                                     {directory.file("dog/x.PNG"), "neither a JPEG nor a PNG"});
}

// A real PNG whose IHDR chunk is rewritten to declare width x height (its CRC recomputed, so
// libpng accepts the header): a decompression bomb's first bytes.
std::vector<uint8_t> png_declaring(uint32_t width, uint32_t height) {
  std::vector<uint8_t> bytes = encode_png(gradient(2, 2));
  // 8-byte signature, IHDR length (4), "IHDR" at 12, width at 16, height at 20, CRC at 29.
  for (int i = 0; i < 4; ++i) {
    bytes[static_cast<size_t>(16 + i)] = static_cast<uint8_t>(width >> (24 - 8 * i));
    bytes[static_cast<size_t>(20 + i)] = static_cast<uint8_t>(height >> (24 - 8 * i));
  }
  const uint32_t crc = static_cast<uint32_t>(crc32(0, bytes.data() + 12, 17));
  for (int i = 0; i < 4; ++i)
    bytes[static_cast<size_t>(29 + i)] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  return bytes;
}

// The decoders allocated what the header declared before decoding: libpng's PNG_IMAGE_SIZE wraps
// at 32 bits, so this 1000000 x 1000000 one zero-filled 2.1 GB (tens of seconds) before libpng
// refused it; 100000 x 100000, or a JPEG of 65000 x 65000, ended as "out of memory" naming no file.
TEST(ImageFolderDatasetTest, AnImageDeclaringAHugeSizeIsRefusedBeforeItIsAllocated) {
  TemporaryDirectory directory;
  write_folder(directory);
  write_file_bytes(directory.file("dog/x.PNG"), png_declaring(1000000, 1000000));
  const ImageFolderDataset dataset(directory.path().string());
  expect_error_mentioning<FileError>(
      [&] { dataset.read(2); },
      {"PNG '" + directory.file("dog/x.PNG") + "' declares a 3x1000000x1000000 image",
       "268435456 bytes"});
  // The rewritten header itself is sound: declaring the true size decodes the image.
  write_file_bytes(directory.file("dog/x.PNG"), png_declaring(2, 2));
  EXPECT_EQ(dataset.read(2).pixels, gradient(2, 2).pixels);
}

// An Adobe CMYK (YCCK) JPEG, as some of ImageNet's are, was refused as "corrupt JPEG:
// Unsupported color conversion request". libjpeg hands its values back inverted (255 = no
// ink), and RGB = C * K / 255 as Pillow converts them.
TEST(ImageFolderDatasetTest, CmykJpegDecodesToRgbAndGrayAsPillowConvertsIt) {
  std::vector<uint8_t> cmyk;
  for (int p = 0; p < 16; ++p) cmyk.insert(cmyk.end(), {200, 100, 50, 128});
  const std::unique_ptr<void, int (*)(tjhandle)> encoder(tjInitCompress(), tjDestroy);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(
      tjCompress2(encoder.get(), cmyk.data(), 4, 0, 4, TJPF_CMYK, &jpeg, &size, TJSAMP_444, 100, 0),
      0);
  const std::vector<uint8_t> bytes(jpeg, jpeg + size);
  tjFree(jpeg);
  const Image rgb = decode_image(bytes, 3, "cmyk.jpg");
  ASSERT_EQ(rgb.shape(), (Shape{3, 4, 4}));
  const int expected[3] = {100, 50, 25};  // 200 * 128 / 255, 100 * 128 / 255, 50 * 128 / 255
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(rgb.pixels[static_cast<size_t>(c * 16 + 5)], expected[c], 3) << "channel " << c;
  }
  const Image gray = decode_image(bytes, 1, "cmyk.jpg");
  ASSERT_EQ(gray.shape(), (Shape{1, 4, 4}));
  EXPECT_NEAR(gray.pixels[5], 62, 3);  // 0.299 * 100 + 0.587 * 50 + 0.114 * 25
}

TEST(ImageFolderDatasetTest, ClassFolderWithoutImagesIsReported) {
  TemporaryDirectory directory;
  write_folder(directory);
  std::filesystem::create_directories(directory.path() / "empty");
  expect_error_mentioning<FileError>([&] { ImageFolderDataset(directory.path().string()); },
                                     {directory.path().string(), "'empty'", "no .jpg"});
}

// A link back to a folder that holds it sent the walk round and round, listing cat's images
// again at every turn, until the kernel refused the path (ELOOP) and std::filesystem said
// "cannot increment recursive directory iterator", naming no path. A link to itself or into a
// cycle of links is refused by the kernel at once.
TEST(ImageFolderDatasetTest, ALoopOfSymbolicLinksIsRefusedNamingTheLink) {
  namespace fs = std::filesystem;
  TemporaryDirectory directory;
  write_folder(directory);
  const std::string root = directory.path().string();
  fs::create_directory_symlink(directory.path(), directory.path() / "cat" / "up");
  expect_error_mentioning<FileError>(
      [&] { ImageFolderDataset{root}; },
      {"image folder '" + root + "': '" + root + "/cat/up' leads back to '" +
       fs::canonical(root).string() + "', a folder it is in (a loop of symbolic links)"});
  fs::remove(directory.path() / "cat" / "up");
  fs::create_directory_symlink("itself", directory.path() / "dog" / "itself");
  expect_error_mentioning<FileError>(
      [&] { ImageFolderDataset{root}; },
      {"image folder '" + root + "': cannot list '" + root +
       "/dog/itself': Too many levels of symbolic links"});
  fs::remove(directory.path() / "dog" / "itself");
  fs::create_directory_symlink("bird", directory.path() / "bird");
  expect_error_mentioning<FileError>(
      [&] { ImageFolderDataset{root}; },
      {"image folder '" + root + "': cannot list '" + root +
       "/bird': Too many levels of symbolic links"});
  fs::remove(directory.path() / "bird");
  EXPECT_EQ(ImageFolderDataset(root).size(), 3) << "the same folder, untangled, reads";
}

TEST(ImageFolderDatasetTest, MissingRootIsReported) {
  expect_error_mentioning<FileError>([] { ImageFolderDataset("/no/such/root"); },
                                     {"/no/such/root", "does not exist"});
}

}  // namespace
}  // namespace convoy::data
