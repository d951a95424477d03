#include "datasets/image_limits.hpp"

#include "framework/common/error.hpp"

namespace convoy::data {

void check_image_size(uint64_t channels, uint64_t height, uint64_t width,
                      const std::string& where) {
  // Each factor is bounded first, so neither product below can wrap around 2^64.
  const uint64_t limit = kLargestImageBytes;
  const bool fits = channels <= limit && height <= limit && width <= limit &&
                    channels * height <= limit && channels * height * width <= limit;
  if (fits) return;
  throw FileError(where + " declares a " + std::to_string(channels) + "x" + std::to_string(height) +
                  "x" + std::to_string(width) + " image, more than the " + std::to_string(limit) +
                  " bytes (256 MiB) of pixels an image may have; the file is corrupt or not a "
                  "dataset image");
}

}  // namespace convoy::data
