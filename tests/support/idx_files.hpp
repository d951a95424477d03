#pragma once
// IDX files (MNIST's format) with known contents, for the tests of the IDX reader and of
// training on an MNIST-layout folder.

#include <cstdint>
#include <vector>

namespace convoy::testing {

// Appends `value` as IDX stores numbers: 4 bytes, most significant first.
void append_big_endian(std::vector<uint8_t>& bytes, uint32_t value);
// An IDX image file of `count` images of height x width: image i has pixel p = (7 * i + p) mod 256.
std::vector<uint8_t> idx_images_file(uint32_t count, uint32_t height, uint32_t width,
                                     uint32_t magic = 2051);
// An IDX label file of `count` labels: label i = i mod 10.
std::vector<uint8_t> idx_labels_file(uint32_t count, uint32_t magic = 2049);

}  // namespace convoy::testing
