#pragma once
// JPEG (libturbojpeg) and PNG (libpng) decoding to CHW uint8, and encoding for tests/tools.

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/image.hpp"

namespace convoy::data {

// Decodes a JPEG or PNG (chosen by the file's magic bytes, not its extension) into `channels`
// (1 = grayscale, 3 = RGB) whatever the file stores; alpha is composited away by the
// decoder; CMYK JPEGs are converted as Pillow converts them. `path` only names the file in the
// FileError thrown for corrupt or truncated data, or a declared size beyond image_limits.hpp's.
Image decode_image(const std::vector<uint8_t>& bytes, int channels, const std::string& path);

// Encoders for CHW uint8 images with 1 or 3 channels (tests write their image folders with
// these; `convoy convert` could export samples).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality);
std::vector<uint8_t> encode_png(const Image& image);

}  // namespace convoy::data
