#pragma once
// GradientBufferPool: recycles gradient tensors during backward, so that only the gradients
// still referenced somewhere are alive at once (PyTorch frees a gradient once its consumer used
// it; here the buffer goes back to the pool instead, and the next step reuses it).

#include <cstddef>
#include <vector>

#include "framework/tensor.hpp"

namespace convoy {

// Why reuse is decided by reference counts rather than explicit release calls:
// 1. A Tensor copy shares its buffer. A buffer is free again when the pool's own handle is the
//    last one: no layer, no Net node, no caller (tests, the gradient checker, backward hooks)
//    still holds the gradient. Whoever keeps a gradient keeps it intact, with no bookkeeping.
// 2. Gradients are often aliased (Add hands the same tensor to both inputs, Dropout in eval
//    passes the output gradient through), which explicit release calls would have to track.
// Why buffers are matched by size, not by layout:
// 3. A network's gradients come in many shapes (ResNet-50: a dozen activation shapes, each in
//    f32 or bf16 and its blocked format), but only a few are alive at once. The pool hands out
//    views (Memory::view) into plain blocks of bytes: the smallest free block that is large
//    enough, else a free block grown to the size asked, else a new block. The blocks then add
//    up to about what the peak of one backward holds, not to a buffer per shape.
// 4. Blocks are freed only when grown: after the first steps the set of blocks is what the
//    peak of one backward needed, and later steps allocate nothing.
class GradientBufferPool {
 public:
  GradientBufferPool() = default;
  GradientBufferPool(const GradientBufferPool&) = delete;
  GradientBufferPool& operator=(const GradientBufferPool&) = delete;

  // A tensor of `layout` whose buffer nobody else references. Its contents are unspecified
  // (whatever its previous user left): the caller must overwrite every element.
  Tensor acquire(const Layout& layout);

  // Whether `tensor` is one of the pool's buffers and the caller's handle is the only one
  // outside the pool: the caller may then update it in place without anyone seeing.
  bool held_only_by(const Tensor& tensor) const;

  // Blocks allocated and kept, and their total size in bytes.
  size_t buffer_count() const { return blocks_.size(); }
  size_t bytes() const;
  // Blocks some tensor outside the pool still references.
  size_t buffers_in_use() const;

 private:
  std::vector<kernels::Memory> blocks_;
};

}  // namespace convoy
