#include "support/idx_files.hpp"

namespace convoy::testing {

void append_big_endian(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(value >> shift));
}

std::vector<uint8_t> idx_images_file(uint32_t count, uint32_t height, uint32_t width,
                                     uint32_t magic) {
  std::vector<uint8_t> bytes;
  append_big_endian(bytes, magic);
  append_big_endian(bytes, count);
  append_big_endian(bytes, height);
  append_big_endian(bytes, width);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t p = 0; p < height * width; ++p) bytes.push_back(static_cast<uint8_t>(7 * i + p));
  }
  return bytes;
}

std::vector<uint8_t> idx_labels_file(uint32_t count, uint32_t magic) {
  std::vector<uint8_t> bytes;
  append_big_endian(bytes, magic);
  append_big_endian(bytes, count);
  for (uint32_t i = 0; i < count; ++i) bytes.push_back(static_cast<uint8_t>(i % 10));
  return bytes;
}

}  // namespace convoy::testing
