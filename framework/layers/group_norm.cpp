#include "framework/layers/group_norm.hpp"

#include <cstdio>

namespace convoy {

static Shape affine_shape(const GroupNormOptions& options) {
  return options.affine && options.channels > 0 ? Shape{options.channels} : Shape{};
}

GroupNorm::GroupNorm(const GroupNormOptions& options)
    : GroupedNormalizationLayer("GroupNorm", options.eps, affine_shape(options)),
      options_(options) {
  if (options_.groups < 1 || options_.channels < 1) {
    fail("groups and channels must be positive");
  }
  if (options_.channels % options_.groups != 0) {
    fail("channels=" + std::to_string(options_.channels) +
         " is not divisible by groups=" + std::to_string(options_.groups));
  }
  if (!(options_.eps > 0)) fail("eps must be positive");
}

std::string GroupNorm::describe() const {
  char text[128];
  std::snprintf(text, sizeof text, "GroupNorm(%lld, %lld, eps=%g%s)",
                static_cast<long long>(options_.groups), static_cast<long long>(options_.channels),
                options_.eps, options_.affine ? "" : ", affine=false");
  return text;
}

Shape GroupNorm::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() < 2 || input[1] != options_.channels) {
    fail("expects input (N, " + std::to_string(options_.channels) + ", *), got " +
         to_string(input));
  }
  return input;
}

kernels::GroupView GroupNorm::group_view(const Shape& input) const {
  const int64_t spatial = element_count(input) / (input[0] * input[1]);
  return {input[0], options_.groups, options_.channels / options_.groups, spatial};
}

}  // namespace convoy
