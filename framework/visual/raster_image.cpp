#include "framework/visual/raster_image.hpp"

#include <png.h>

#include "framework/common/error.hpp"

namespace convoy::visual {

// libpng's "simplified API" (png_image): no setjmp/longjmp error handling to get wrong, and it
// converts between gray and RGB on reading.

int64_t ScaledPictureSize::pixels(int64_t scale) const {
  return (height * scale + fixed_height) * (width * scale + fixed_width);
}

int64_t ScaledPictureSize::largest_scale() const {
  // pixels() grows with the scale and is at least scale^2 (height and width are at least 1), so
  // no scale above 2^14 fits; and pixels(scale) <= scale^2 * pixels(1) < 2^57 stays in 64 bits.
  if (height < 1 || width < 1 || pixels(1) > kMaxPicturePixels) return 0;
  int64_t fits = 1, too_large = (int64_t{1} << 14) + 1;
  while (too_large - fits > 1) {
    const int64_t middle = fits + (too_large - fits) / 2;
    (pixels(middle) <= kMaxPicturePixels ? fits : too_large) = middle;
  }
  return fits;
}

RasterImage::RasterImage(int height, int width, int channels, uint8_t fill)
    : height_(height), width_(width), channels_(channels) {
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3)) {
    throw ShapeError("a picture must be at least 1x1 with 1 or 3 channels, not " +
                     std::to_string(height) + "x" + std::to_string(width) + " with " +
                     std::to_string(channels));
  }
  if (int64_t{height} * width > kMaxPicturePixels) {
    throw ShapeError("a picture of " + std::to_string(height) + "x" + std::to_string(width) +
                     " pixels is larger than the limit of " + std::to_string(kMaxPicturePixels));
  }
  pixels_.assign(
      static_cast<size_t>(height) * static_cast<size_t>(width) * static_cast<size_t>(channels),
      fill);
}

void write_png(const RasterImage& image, const std::string& path) {
  if (image.pixels().empty()) throw ShapeError("cannot write an empty picture to " + path);
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width());
  png.height = static_cast<png_uint_32>(image.height());
  png.format = image.channels() == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (png_image_write_to_file(&png, path.c_str(), 0, image.pixels().data(), 0, nullptr) == 0) {
    throw FileError("cannot write PNG " + path + ": " + png.message);
  }
}

RasterImage read_png(const std::string& path, int channels) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path.c_str()) == 0) {
    throw FileError("cannot read PNG " + path + ": " + png.message);
  }
  png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  RasterImage image(static_cast<int>(png.height), static_cast<int>(png.width), channels);
  if (png_image_finish_read(&png, nullptr, image.pixels().data(), 0, nullptr) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw FileError("corrupt PNG " + path + ": " + message);
  }
  return image;
}

}  // namespace convoy::visual
