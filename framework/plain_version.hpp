#pragma once
// plain_version: the bridge from any tensor layout to the plain arrays that hand-written loops
// (normalizations, the loss) read.

#include "framework/tensor.hpp"

namespace convoy {

// `tensor` itself if it is already plain f32 (no copy), otherwise its contents converted into
// `scratch`, which is allocated on first use and reused while the shape stays the same.
inline Tensor plain_version(const Tensor& tensor, Tensor& scratch) {
  if (tensor.layout().is_plain() && tensor.layout().data_type() == DataType::f32) return tensor;
  if (scratch.empty() || scratch.shape() != tensor.shape()) scratch = Tensor::zeros(tensor.shape());
  scratch.copy_from(tensor);
  return scratch;
}

}  // namespace convoy
