#include "framework/layers/instance_norm2d.hpp"

#include <cstdio>

namespace convoy {

static Shape affine_shape(const InstanceNorm2dOptions& options) {
  return options.affine && options.channels > 0 ? Shape{options.channels} : Shape{};
}

InstanceNorm2d::InstanceNorm2d(const InstanceNorm2dOptions& options)
    : GroupedNormalizationLayer("InstanceNorm2d", options.eps, affine_shape(options)),
      options_(options) {
  if (options_.channels < 1) fail("channels must be positive");
  if (!(options_.eps > 0)) fail("eps must be positive");
}

std::string InstanceNorm2d::describe() const {
  char text[128];
  std::snprintf(text, sizeof text, "InstanceNorm2d(%lld, eps=%g%s)",
                static_cast<long long>(options_.channels), options_.eps,
                options_.affine ? ", affine=true" : "");
  return text;
}

Shape InstanceNorm2d::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4 || input[1] != options_.channels) {
    fail("expects input (N, " + std::to_string(options_.channels) + ", H, W), got " +
         to_string(input));
  }
  // As torch: statistics over a single value would normalize everything to zero.
  if (input[2] * input[3] < 2) {
    fail("needs more than one spatial element per channel, got " + to_string(input));
  }
  return input;
}

kernels::GroupView InstanceNorm2d::group_view(const Shape& input) const {
  return {input[0], input[1], 1, input[2] * input[3]};
}

}  // namespace convoy
