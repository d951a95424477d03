#pragma once
// The effective receptive field (Luo et al., "Understanding the Effective Receptive Field in
// Deep Convolutional Neural Networks", 2016): how strongly each input pixel moves the centre
// unit of a layer, measured by backpropagation, beside the theoretical field (every pixel the
// unit can see at all, from Net::summarize).

#include <string>
#include <vector>

#include "framework/graph/net.hpp"

namespace convoy::visual {

// Mean over images and input channels of |d (sum over channels of the centre unit) / d input|.
struct EffectiveReceptiveField {
  std::vector<float> map;  // (H, W) of the input
  int height = 0, width = 0;
  int64_t centre_y = 0, centre_x = 0;  // the unit of `layer` whose gradient was taken
};

// Runs `images` (N, C, H, W) through `net` in eval mode, sets the gradient of layer `layer`'s
// output to 1 at the spatial centre (H_out / 2, W_out / 2) of every channel and 0 elsewhere,
// and backpropagates to the input. ConfigError naming the valid layers for an unknown name;
// ShapeError for a layer whose output is not (N, C, H, W).
EffectiveReceptiveField effective_receptive_field(Net& net, const std::string& layer,
                                                  const Tensor& images);

// Side of the smallest square centred on the map's centre of mass (rounded to a pixel; odd
// sides 1, 3, 5, ...) that holds at least `fraction` of the map's total; squares are cut at
// the borders. 0 for an all-zero map.
int64_t centred_square_side(const EffectiveReceptiveField& field, double fraction);

}  // namespace convoy::visual
