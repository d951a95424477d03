#pragma once
// One decoded sample as a reader returns it: 8-bit pixels in CHW order and its class.

#include <cstdint>
#include <vector>

#include "framework/common/shape.hpp"

namespace convoy::data {

// Raw pixels (channel-major: all of channel 0, then channel 1, ...) and the class index.
struct Image {
  std::vector<uint8_t> pixels;  // (C, H, W)
  int channels = 0;
  int height = 0;
  int width = 0;
  int32_t label = 0;

  Shape shape() const { return {channels, height, width}; }
};

}  // namespace convoy::data
