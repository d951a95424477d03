#include "framework/tensor.hpp"

#include <cstring>

#include "framework/common/error.hpp"

namespace convoy {

Tensor Tensor::from_plain(const Shape& shape, std::span<const float> values) {
  Tensor tensor = zeros(shape);
  tensor.copy_from_plain(values);
  return tensor;
}

std::vector<float> Tensor::to_plain() const {
  std::vector<float> values(static_cast<size_t>(element_count()));
  kernels::Memory plain(Layout::plain(shape()), values.data());
  kernels::reorder(memory_, plain);
  return values;
}

void Tensor::copy_from_plain(std::span<const float> values) {
  if (static_cast<int64_t>(values.size()) != element_count()) {
    throw ShapeError("copy_from_plain: tensor " + to_string(shape()) + " holds " +
                     std::to_string(element_count()) + " values, got " +
                     std::to_string(values.size()));
  }
  kernels::Memory plain(Layout::plain(shape()), const_cast<float*>(values.data()));
  kernels::reorder(plain, memory_);
}

void Tensor::copy_from(const Tensor& source) { kernels::reorder(source.memory_, memory_); }

Tensor Tensor::clone() const {
  Tensor copy(layout());
  copy.copy_from(*this);
  return copy;
}

void Tensor::fill_zero() { std::memset(memory_.data(), 0, layout().bytes()); }

float* Tensor::plain_data() {
  if (!layout().is_plain() || layout().data_type() != DataType::f32) {
    throw ShapeError("plain_data() needs a plain f32 tensor, this one is " + layout().describe());
  }
  return static_cast<float*>(memory_.data());
}

const float* Tensor::plain_data() const { return const_cast<Tensor*>(this)->plain_data(); }

}  // namespace convoy
