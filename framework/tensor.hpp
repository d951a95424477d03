#pragma once
// Tensor: a logical NCHW (or NC, or X) array of floats whose physical layout is whatever the
// primitive that produced it preferred. Copies share storage, as in PyTorch; clone() copies.

#include <span>
#include <vector>

#include "framework/common/shape.hpp"
#include "framework/kernels/memory.hpp"

namespace convoy {

using kernels::DataType;
using kernels::Layout;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Layout& layout) : memory_(layout) {}  // zero-filled
  explicit Tensor(kernels::Memory memory) : memory_(std::move(memory)) {}

  static Tensor zeros(const Shape& shape) { return Tensor(Layout::plain(shape)); }
  static Tensor from_plain(const Shape& shape, std::span<const float> values);

  bool empty() const { return memory_.empty(); }
  Shape shape() const { return memory_.layout().dims(); }
  int64_t dim(size_t axis) const { return shape().at(axis); }
  int64_t element_count() const { return convoy::element_count(shape()); }
  const Layout& layout() const { return memory_.layout(); }
  const kernels::Memory& memory() const { return memory_; }

  // Row-major float copy of the logical contents, whatever the physical layout.
  std::vector<float> to_plain() const;
  // Overwrites the contents from row-major floats (converted to this tensor's layout).
  void copy_from_plain(std::span<const float> values);
  // Copies another tensor's contents into this one, converting layout (same dims).
  void copy_from(const Tensor& source);
  Tensor clone() const;
  void fill_zero();

  // Direct access for plain f32 tensors only (throws otherwise): loss, optimizer, tests.
  float* plain_data();
  const float* plain_data() const;

 private:
  kernels::Memory memory_;
};

}  // namespace convoy
