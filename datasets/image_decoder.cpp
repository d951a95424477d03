#include "datasets/image_decoder.hpp"

#include <png.h>
#include <turbojpeg.h>

#include <memory>

#include "datasets/image_limits.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

struct TurboJpegCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TurboJpegHandle = std::unique_ptr<void, TurboJpegCloser>;

// HWC interleaved -> CHW planar.
Image planar_from_interleaved(const std::vector<uint8_t>& interleaved, int channels, int height,
                              int width) {
  Image image{std::vector<uint8_t>(interleaved.size()), channels, height, width, 0};
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < channels; ++c) {
      image.pixels[static_cast<size_t>(c) * plane + p] =
          interleaved[p * static_cast<size_t>(channels) + static_cast<size_t>(c)];
    }
  }
  return image;
}

std::vector<uint8_t> interleaved_from_planar(const Image& image) {
  const size_t plane = static_cast<size_t>(image.height) * static_cast<size_t>(image.width);
  std::vector<uint8_t> interleaved(image.pixels.size());
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < image.channels; ++c) {
      interleaved[p * static_cast<size_t>(image.channels) + static_cast<size_t>(c)] =
          image.pixels[static_cast<size_t>(c) * plane + p];
    }
  }
  return interleaved;
}

// CMYK and YCCK JPEGs (Adobe's; ImageNet's training set holds some) have no RGB conversion in
// libjpeg, which refused them as "Unsupported color conversion request". Decoded to CMYK, they
// come back inverted as Adobe stores them (255 = no ink), so R = C * K / 255 (and G, B from M, Y):
// what Pillow and libjpeg-turbo's own test utilities compute. Gray uses libjpeg's luma weights.
Image decode_cmyk_jpeg(void* handle, const std::vector<uint8_t>& bytes, int channels, int height,
                       int width, const std::string& path) {
  std::vector<uint8_t> cmyk(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
  if (tjDecompress2(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), cmyk.data(),
                    width, 0, height, TJPF_CMYK, TJFLAG_STOPONWARNING) != 0) {
    throw FileError("corrupt JPEG '" + path + "': " + tjGetErrorStr2(handle));
  }
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  Image image{std::vector<uint8_t>(plane * static_cast<size_t>(channels)), channels, height, width,
              0};
  for (size_t p = 0; p < plane; ++p) {
    const unsigned black = cmyk[4 * p + 3];
    unsigned rgb[3];
    for (size_t c = 0; c < 3; ++c) rgb[c] = (cmyk[4 * p + c] * black + 127) / 255;
    if (channels == 1) {
      image.pixels[p] =
          static_cast<uint8_t>((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
    } else {
      for (size_t c = 0; c < 3; ++c) image.pixels[c * plane + p] = static_cast<uint8_t>(rgb[c]);
    }
  }
  return image;
}

Image decode_jpeg(const std::vector<uint8_t>& bytes, int channels, const std::string& path) {
  TurboJpegHandle handle(tjInitDecompress());
  if (!handle) throw FileError("cannot start JPEG decoding of '" + path + "'");
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  unsigned char* data = const_cast<unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  if (tjDecompressHeader3(handle.get(), data, size, &width, &height, &subsampling, &colorspace) !=
      0) {
    throw FileError("corrupt JPEG '" + path + "': " + tjGetErrorStr2(handle.get()));
  }
  check_image_size(static_cast<uint64_t>(channels), static_cast<uint64_t>(height),
                   static_cast<uint64_t>(width), "JPEG '" + path + "'");
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    return decode_cmyk_jpeg(handle.get(), bytes, channels, height, width, path);
  }
  std::vector<uint8_t> interleaved(static_cast<size_t>(width) * static_cast<size_t>(height) *
                                   static_cast<size_t>(channels));
  // STOPONWARNING: a truncated JPEG only raises a libjpeg warning; we want it reported, not
  // decoded as a grey half-image.
  if (tjDecompress2(handle.get(), data, size, interleaved.data(), width, 0, height,
                    channels == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_STOPONWARNING) != 0) {
    throw FileError("corrupt JPEG '" + path + "': " + tjGetErrorStr2(handle.get()));
  }
  return planar_from_interleaved(interleaved, channels, height, width);
}

Image decode_png(const std::vector<uint8_t>& bytes, int channels, const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    throw FileError("corrupt PNG '" + path + "': " + png.message);
  }
  png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  try {
    check_image_size(static_cast<uint64_t>(channels), png.height, png.width, "PNG '" + path + "'");
  } catch (const FileError&) {
    png_image_free(&png);  // begin_read allocated the decoder; finish_read would free it
    throw;
  }
  std::vector<uint8_t> interleaved(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, nullptr, interleaved.data(), 0, nullptr) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw FileError("corrupt PNG '" + path + "': " + message);
  }
  return planar_from_interleaved(interleaved, channels, static_cast<int>(png.height),
                                 static_cast<int>(png.width));
}

void check_encodable(const Image& image) {
  if ((image.channels != 1 && image.channels != 3) || image.height <= 0 || image.width <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.channels) *
                                 static_cast<size_t>(image.height) *
                                 static_cast<size_t>(image.width)) {
    throw ShapeError("cannot encode an image of shape " + to_string(image.shape()) + " with " +
                     std::to_string(image.pixels.size()) + " pixels; expected 1 or 3 channels");
  }
}

}  // namespace

Image decode_image(const std::vector<uint8_t>& bytes, int channels, const std::string& path) {
  if (channels != 1 && channels != 3) {
    throw ConfigError("decoding '" + path + "' to " + std::to_string(channels) +
                      " channels; expected 1 or 3");
  }
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    return decode_jpeg(bytes, channels, path);
  }
  if (bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0) {
    return decode_png(bytes, channels, path);
  }
  throw FileError("'" + path + "' is neither a JPEG nor a PNG (its first bytes match neither " +
                  "signature)");
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  check_encodable(image);
  TurboJpegHandle handle(tjInitCompress());
  std::vector<uint8_t> interleaved = interleaved_from_planar(image);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  const int status = tjCompress2(handle.get(), interleaved.data(), image.width, 0, image.height,
                                 image.channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &jpeg_size,
                                 image.channels == 1 ? TJSAMP_GRAY : TJSAMP_444, quality, 0);
  if (status != 0) {
    const std::string message = tjGetErrorStr2(handle.get());
    tjFree(jpeg);
    throw Error("JPEG encoding failed: " + message);
  }
  std::vector<uint8_t> bytes(jpeg, jpeg + jpeg_size);
  tjFree(jpeg);
  return bytes;
}

std::vector<uint8_t> encode_png(const Image& image) {
  check_encodable(image);
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  std::vector<uint8_t> interleaved = interleaved_from_planar(image);
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&png, nullptr, &size, 0, interleaved.data(), 0, nullptr) == 0) {
    throw Error(std::string("PNG encoding failed: ") + png.message);
  }
  std::vector<uint8_t> bytes(size);
  if (png_image_write_to_memory(&png, bytes.data(), &size, 0, interleaved.data(), 0, nullptr) ==
      0) {
    throw Error(std::string("PNG encoding failed: ") + png.message);
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace convoy::data
