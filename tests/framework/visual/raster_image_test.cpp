#include "framework/visual/raster_image.hpp"

#include <gtest/gtest.h>

#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::visual {
namespace {

using testing::TemporaryDirectory;

RasterImage numbered(int height, int width, int channels) {
  RasterImage image(height, width, channels);
  for (size_t i = 0; i < image.pixels().size(); ++i)
    image.pixels()[i] = static_cast<uint8_t>(i * 7);
  return image;
}

TEST(RasterImageTest, GrayPngReadsBackWithItsSizeAndPixels) {
  TemporaryDirectory directory;
  const RasterImage image = numbered(5, 9, 1);
  write_png(image, directory.file("gray.png"));
  const RasterImage back = read_png(directory.file("gray.png"), 1);
  EXPECT_EQ(back.height(), 5);
  EXPECT_EQ(back.width(), 9);
  EXPECT_EQ(back.pixels(), image.pixels());
}

TEST(RasterImageTest, RgbPngDecodesWithTheDatasetDecoderToTheSamePlanes) {
  // A second, independent libpng reader: the image-folder decoder (CHW planes).
  TemporaryDirectory directory;
  const RasterImage image = numbered(4, 6, 3);
  write_png(image, directory.file("rgb.png"));
  const data::Image decoded =
      data::decode_image(data::read_file_bytes(directory.file("rgb.png")), 3, "rgb.png");
  ASSERT_EQ(decoded.shape(), (Shape{3, 4, 6}));
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 4; ++y) {
      for (int x = 0; x < 6; ++x) {
        EXPECT_EQ(decoded.pixels[static_cast<size_t>((c * 4 + y) * 6 + x)], image.at(y, x, c))
            << "channel " << c << " at (" << y << ", " << x << ")";
      }
    }
  }
}

TEST(RasterImageTest, WritingIntoAMissingFolderIsAFileErrorNamingThePath) {
  TemporaryDirectory directory;
  const std::string path = directory.file("no-such-folder/picture.png");
  testing::expect_error_mentioning<FileError>([&] { write_png(numbered(2, 2, 1), path); },
                                              {"cannot write PNG", path});
}

TEST(RasterImageTest, ReadingAMissingOrCorruptFileIsAFileError) {
  TemporaryDirectory directory;
  testing::expect_error_mentioning<FileError>([&] { read_png(directory.file("missing.png"), 1); },
                                              {"missing.png"});
  data::write_file_bytes(directory.file("text.png"), {'n', 'o', 't', ' ', 'a', ' ', 'p', 'n', 'g'});
  testing::expect_error_mentioning<FileError>([&] { read_png(directory.file("text.png"), 1); },
                                              {"text.png"});
}

TEST(RasterImageTest, RejectsShapesPngCannotHold) {
  EXPECT_THROW(RasterImage(0, 4, 1), ShapeError);
  EXPECT_THROW(RasterImage(4, 4, 2), ShapeError);
}

TEST(RasterImageTest, APictureAboveThePixelLimitIsAShapeError) {
  EXPECT_THROW(RasterImage(16385, 16384, 1), ShapeError);
  EXPECT_EQ(ScaledPictureSize({16384, 16384}).largest_scale(), 1);
  EXPECT_EQ(ScaledPictureSize({16385, 16384}).largest_scale(), 0);
  EXPECT_EQ(ScaledPictureSize({16384, 1}).largest_scale(), 128);  // 16384 s x s <= 2^28
  EXPECT_EQ(ScaledPictureSize({1, 1}).largest_scale(), 16384);
  EXPECT_EQ(ScaledPictureSize({1, 1, 16383, 16383}).largest_scale(), 1);  // separators do not scale
}

}  // namespace
}  // namespace convoy::visual
