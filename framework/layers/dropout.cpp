#include "framework/layers/dropout.hpp"

#include <cstdio>

#include "framework/common/error.hpp"

namespace convoy {

namespace {

// splitmix64: a small, well-mixed counter-based generator (Steele et al. 2014); the same
// (seed, call, element) always gives the same bit pattern on every machine.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

Dropout::Dropout(const DropoutOptions& options) : Layer("Dropout"), options_(options) {
  if (!(options_.probability >= 0.0 && options_.probability < 1.0)) {
    throw ConfigError("Dropout: probability must be in [0, 1), got " +
                      std::to_string(options_.probability));
  }
}

std::string Dropout::describe() const {
  char text[48];
  std::snprintf(text, sizeof text, "Dropout(p=%g)", options_.probability);
  return text;
}

Shape Dropout::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  return input_shapes[0];
}

void Dropout::reshape(const std::vector<Shape>& input_shapes) {
  output_ = Tensor::zeros(input_shapes[0]);
  mask_.assign(static_cast<size_t>(element_count(input_shapes[0])), 0.0f);
  mask_ready_ = false;
}

Tensor Dropout::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  last_was_train_ = mode == Mode::train && options_.probability > 0.0;
  if (!last_was_train_) return inputs[0];
  if (!frozen_ || !mask_ready_) {
    const uint64_t call_key = mix(options_.seed ^ mix(call_index_++));
    const float scale = static_cast<float>(1.0 / (1.0 - options_.probability));
    // Keep when a uniform draw in [0, 1) with 24-bit resolution is >= p.
    const auto threshold = static_cast<uint64_t>(options_.probability * 16777216.0);
    const int64_t samples = output_.shape()[0];
    const uint64_t first =
        static_cast<uint64_t>(first_sample_) * (mask_.size() / static_cast<size_t>(samples));
    for (size_t i = 0; i < mask_.size(); ++i) {
      mask_[i] = (mix(call_key + first + i) >> 40) >= threshold ? scale : 0.0f;
    }
    mask_ready_ = true;
  }
  output_.copy_from(inputs[0]);
  float* values = output_.plain_data();
  for (size_t i = 0; i < mask_.size(); ++i) values[i] *= mask_[i];
  return output_;
}

std::vector<Tensor> Dropout::backward_impl(const Tensor& output_grad) {
  if (!last_was_train_) return {output_grad};
  Tensor input_grad = gradient_buffer(output_.layout());  // plain, the input's dims
  input_grad.copy_from(output_grad);
  float* values = input_grad.plain_data();
  for (size_t i = 0; i < mask_.size(); ++i) values[i] *= mask_[i];
  return {input_grad};
}

}  // namespace convoy
