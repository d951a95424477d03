#pragma once
// --scale of the picture commands (filters, units, receptive-field): pixels per drawn value,
// bounded so that the picture stays within visual::kMaxPicturePixels.

#include <string>

#include "framework/visual/raster_image.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

// UsageError naming --scale and the range that keeps `picture` (e.g. "16 filters of 3x3")
// within the limit; checked before any drawing, so a mistyped scale costs nothing.
inline void check_picture_scale(int scale, const visual::ScaledPictureSize& size,
                                const std::string& picture) {
  const int64_t largest = size.largest_scale();
  if (scale >= 1 && scale <= largest) return;
  const std::string limit = std::to_string(visual::kMaxPicturePixels) + " pixels";
  if (largest == 0) {
    throw UsageError("a picture of " + picture + " would have more than " + limit +
                     " even at --scale 1");
  }
  throw UsageError("--scale must be in [1, " + std::to_string(largest) + "] for a picture of " +
                   picture + " (at most " + limit + "), got " + std::to_string(scale));
}

}  // namespace convoy::launcher
