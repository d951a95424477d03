#include "framework/visual/effective_receptive_field.hpp"

#include <algorithm>
#include <cmath>

#include "framework/common/error.hpp"

namespace convoy::visual {

EffectiveReceptiveField effective_receptive_field(Net& net, const std::string& layer,
                                                  const Tensor& images) {
  const Shape input_shape = images.shape();
  if (input_shape.size() != 4) {
    throw ShapeError("effective receptive field: images must be (N, C, H, W), got " +
                     to_string(input_shape));
  }
  net.forward(images, Mode::eval);
  const Shape output_shape = net.activation(layer).shape();
  if (output_shape.size() != 4) {
    throw ShapeError("effective receptive field: layer " + layer + " outputs " +
                     to_string(output_shape) + "; expected a spatial map (N, C, H, W)");
  }
  EffectiveReceptiveField field;
  field.centre_y = output_shape[2] / 2;
  field.centre_x = output_shape[3] / 2;
  const int64_t batch = output_shape[0], channels = output_shape[1];
  const int64_t plane = output_shape[2] * output_shape[3];
  std::vector<float> seed(static_cast<size_t>(element_count(output_shape)), 0.0f);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      seed[static_cast<size_t>((n * channels + c) * plane + field.centre_y * output_shape[3] +
                               field.centre_x)] = 1.0f;
    }
  }
  const std::vector<float> input_grad =
      net.backward_from(layer, Tensor::from_plain(output_shape, seed)).to_plain();

  field.height = static_cast<int>(input_shape[2]);
  field.width = static_cast<int>(input_shape[3]);
  const size_t pixels = static_cast<size_t>(field.height) * static_cast<size_t>(field.width);
  field.map.assign(pixels, 0.0f);
  const size_t maps = static_cast<size_t>(input_shape[0] * input_shape[1]);
  // Sum in double, then average: thousands of small terms per pixel.
  std::vector<double> sum(pixels, 0.0);
  for (size_t m = 0; m < maps; ++m) {
    for (size_t p = 0; p < pixels; ++p) sum[p] += std::abs(input_grad[m * pixels + p]);
  }
  for (size_t p = 0; p < pixels; ++p) field.map[p] = static_cast<float>(sum[p] / maps);
  return field;
}

int64_t centred_square_side(const EffectiveReceptiveField& field, double fraction) {
  double total = 0, mass_y = 0, mass_x = 0;
  for (int y = 0; y < field.height; ++y) {
    for (int x = 0; x < field.width; ++x) {
      const double value = field.map[static_cast<size_t>(y) * field.width + x];
      total += value;
      mass_y += value * y;
      mass_x += value * x;
    }
  }
  if (!(total > 0)) return 0;
  const int centre_y = static_cast<int>(std::lround(mass_y / total));
  const int centre_x = static_cast<int>(std::lround(mass_x / total));
  const int largest =
      std::max({centre_y, centre_x, field.height - 1 - centre_y, field.width - 1 - centre_x});
  for (int radius = 0; radius <= largest; ++radius) {
    double inside = 0;
    for (int y = std::max(0, centre_y - radius); y <= std::min(field.height - 1, centre_y + radius);
         ++y) {
      for (int x = std::max(0, centre_x - radius);
           x <= std::min(field.width - 1, centre_x + radius); ++x) {
        inside += field.map[static_cast<size_t>(y) * field.width + x];
      }
    }
    // A relative slack: the sum inside is the total in a different order of additions.
    if (inside >= fraction * total * (1 - 1e-9)) return 2 * radius + 1;
  }
  return 2 * largest + 1;
}

}  // namespace convoy::visual
