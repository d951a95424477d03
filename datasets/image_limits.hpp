#pragma once
// How large one stored image may be, checked before a reader allocates it.
//
// Why: an image file's header declares its size (PNG up to 2^31 - 1 pixels a side, JPEG 65535,
// an HDF5 dataset any 64-bit extent) and a reader allocates that much before it decodes a byte.
// A header that lies (a decompression bomb, a corrupt or hand-made file) then ended as "out of
// memory" naming no file, or as the kernel's OOM killer. The bound is Pillow's
// decompression-bomb threshold (MAX_IMAGE_PIXELS: a quarter GiB of 8-bit RGB pixels): far above
// any CNN input (the size options stop at 8192 pixels a side) or photo dataset.

#include <cstdint>
#include <string>

namespace convoy::data {

// Bytes of one decoded (C, H, W) uint8 image.
constexpr uint64_t kLargestImageBytes = uint64_t{1} << 28;

// Throws FileError starting with `where` (e.g. "PNG 'a/b.png'") when channels x height x width
// exceeds kLargestImageBytes; the product is computed without overflow.
void check_image_size(uint64_t channels, uint64_t height, uint64_t width, const std::string& where);

}  // namespace convoy::data
