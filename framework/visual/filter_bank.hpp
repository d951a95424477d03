#pragma once
// A convolution's filters as pictures and as one redundancy number: what `convoy filters`
// shows for the first layer of a trained network (edge and colour detectors, or noise).

#include <span>
#include <vector>

#include "framework/common/shape.hpp"
#include "framework/visual/image_grid.hpp"

namespace convoy::visual {

// Tiles of an OIHW weight: with 1 or 3 input channels one tile per filter (gray or RGB, in
// output-channel order); otherwise one gray tile per (filter, input channel), filter-major, so
// a grid with I columns shows one filter per row.
std::vector<Tile> filter_tiles(std::span<const float> weight, const Shape& oihw);

// Mean over pairs of distinct filters of |Pearson r| between the filters flattened over
// (I, H, W): near 0 for independent filters, near 1 when filters repeat each other (up to sign
// and scale). Pairs with a constant filter (no variance, r undefined) are left out; NaN when no
// pair is left. ShapeError for a weight that is not 4-D or has fewer than two filters.
double mean_absolute_filter_correlation(std::span<const float> weight, const Shape& oihw);

}  // namespace convoy::visual
