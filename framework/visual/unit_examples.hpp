#pragma once
// The inputs that excite a unit most (Zeiler & Fergus 2014, Girshick et al. 2014): for chosen
// channels of a layer, the top-k images by their strongest activation anywhere in the map,
// each cropped to the unit's receptive field around where that maximum sits.

#include <cstdint>
#include <span>
#include <vector>

#include "framework/common/shape.hpp"
#include "framework/visual/image_grid.hpp"

namespace convoy::visual {

// One image's strongest response in one channel.
struct UnitExample {
  int64_t sample = 0;    // dataset index
  int64_t y = 0, x = 0;  // position in the layer's output map of the maximum
  float activation = 0;
};

// Keeps, per chosen channel, the k samples with the largest maximum activation seen so far
// over a stream of batches.
class TopUnitActivations {
 public:
  // ConfigError for k < 1 or no channel.
  TopUnitActivations(std::vector<int64_t> channels, int k);

  // activation: one batch's layer output as plain (N, C, H, W) values; samples: the dataset
  // index of each of the N rows. ConfigError naming the channel when it is >= C.
  void add(std::span<const float> activation, const Shape& nchw, std::span<const int64_t> samples);

  const std::vector<int64_t>& channels() const { return channels_; }
  // For channels()[position]: best first; equal activations keep the earlier sample first,
  // and within an image the first maximum in row-major order counts.
  const std::vector<UnitExample>& top(size_t position) const { return top_[position]; }

 private:
  std::vector<int64_t> channels_;
  int k_;
  std::vector<std::vector<UnitExample>> top_;
};

// The size x size window of a (C, H, W) image whose centre is (centre_y, centre_x) (top-left at
// round(centre - (size - 1) / 2)), with zeros outside the image, as a tile (C = 1 or 3).
Tile crop_window(std::span<const float> image, const Shape& chw, double centre_y, double centre_x,
                 int size);

}  // namespace convoy::visual
