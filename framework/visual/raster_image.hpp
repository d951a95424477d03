#pragma once
// RasterImage: 8-bit gray or RGB pixels as PNG stores them (rows top to bottom, channels
// interleaved), and PNG files through libpng, for the pictures `convoy filters`, `units`,
// `receptive-field` and `eval --confusion-png` write.

#include <cstdint>
#include <string>
#include <vector>

namespace convoy::visual {

// The largest picture convoy draws, 16384 x 16384 pixels: anything bigger comes from a mistyped
// scale, opens in no viewer, and would otherwise end in an allocation failure naming nothing.
constexpr int64_t kMaxPicturePixels = int64_t{1} << 28;

// A picture drawn at an integer scale: (height * scale + fixed_height) x (width * scale +
// fixed_width) pixels, the fixed parts being separators that do not scale. In 64 bits, so any
// scale a user types can be asked about.
struct ScaledPictureSize {
  int64_t height = 0, width = 0;
  int64_t fixed_height = 0, fixed_width = 0;

  int64_t pixels(int64_t scale) const;
  // The largest scale whose picture has at most kMaxPicturePixels pixels; 0 when none has.
  int64_t largest_scale() const;
};

// A height x width picture with 1 (gray) or 3 (RGB) channels; pixels (H, W, C) row-major.
class RasterImage {
 public:
  RasterImage() = default;
  // Every pixel set to `fill` in every channel; ShapeError unless the size is positive and at
  // most kMaxPicturePixels and channels is 1 or 3.
  RasterImage(int height, int width, int channels, uint8_t fill = 0);

  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  const std::vector<uint8_t>& pixels() const { return pixels_; }  // (H, W, C)
  std::vector<uint8_t>& pixels() { return pixels_; }

  uint8_t& at(int y, int x, int channel = 0) { return pixels_[index(y, x, channel)]; }
  uint8_t at(int y, int x, int channel = 0) const { return pixels_[index(y, x, channel)]; }

 private:
  size_t index(int y, int x, int channel) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) *
               static_cast<size_t>(channels_) +
           static_cast<size_t>(channel);
  }

  int height_ = 0, width_ = 0, channels_ = 1;
  std::vector<uint8_t> pixels_;
};

// Writes `image` as an 8-bit PNG (gray or RGB); FileError naming the path and libpng's reason
// (missing folder, no permission, full disk).
void write_png(const RasterImage& image, const std::string& path);
// Reads a PNG as gray (1 channel) or RGB (3 channels), converting whatever the file stores;
// FileError naming the path for a missing or corrupt file. For tests and tools.
RasterImage read_png(const std::string& path, int channels);

}  // namespace convoy::visual
