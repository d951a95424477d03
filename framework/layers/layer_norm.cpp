#include "framework/layers/layer_norm.hpp"

#include <algorithm>
#include <cstdio>

namespace convoy {

static Shape affine_shape(const LayerNormOptions& options) {
  const bool valid = !options.normalized_shape.empty() &&
                     std::all_of(options.normalized_shape.begin(), options.normalized_shape.end(),
                                 [](int64_t d) { return d > 0; });
  return options.elementwise_affine && valid ? options.normalized_shape : Shape{};
}

LayerNorm::LayerNorm(const LayerNormOptions& options)
    : GroupedNormalizationLayer("LayerNorm", options.eps, affine_shape(options)),
      options_(options) {
  const auto& shape = options_.normalized_shape;
  if (shape.empty() || std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 1; })) {
    fail("normalized_shape must be non-empty with positive sizes, got " + to_string(shape));
  }
  if (!(options_.eps > 0)) fail("eps must be positive");
}

std::string LayerNorm::describe() const {
  char text[64];
  std::snprintf(text, sizeof text, ", eps=%g", options_.eps);
  return "LayerNorm(" + to_string(options_.normalized_shape) + text +
         (options_.elementwise_affine ? "" : ", elementwise_affine=false") + ")";
}

Shape LayerNorm::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  const Shape& normalized = options_.normalized_shape;
  if (input.size() <= normalized.size() ||
      !std::equal(normalized.begin(), normalized.end(), input.end() - normalized.size())) {
    fail("expects input (N, ..." +
         to_string(normalized).replace(0, 1, normalized.empty() ? "" : ", ") + ", got " +
         to_string(input));
  }
  return input;
}

kernels::GroupView LayerNorm::group_view(const Shape& input) const {
  const int64_t normalized = element_count(options_.normalized_shape);
  // One row per sample; every element has its own scale, so segments of length 1.
  return {element_count(input) / normalized, 1, normalized, 1};
}

}  // namespace convoy
