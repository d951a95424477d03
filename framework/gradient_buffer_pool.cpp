#include "framework/gradient_buffer_pool.hpp"

namespace convoy {

static bool is_free(const kernels::Memory& block) { return block.handle_count() == 1; }

// A block of at least `bytes` bytes (plain f32 elements: any layout's bytes fit in it).
static kernels::Memory new_block(size_t bytes) {
  return kernels::Memory(Layout::plain({static_cast<int64_t>((bytes + 3) / 4)}));
}

Tensor GradientBufferPool::acquire(const Layout& layout) {
  // A linear scan: a network needs a few dozen blocks at most.
  const size_t bytes = layout.bytes();
  kernels::Memory* smallest_fitting = nullptr;
  kernels::Memory* largest_free = nullptr;
  for (kernels::Memory& block : blocks_) {
    if (!is_free(block)) continue;
    const size_t size = block.layout().bytes();
    if (size >= bytes && (!smallest_fitting || size < smallest_fitting->layout().bytes()))
      smallest_fitting = &block;
    if (!largest_free || size > largest_free->layout().bytes()) largest_free = &block;
  }
  if (!smallest_fitting) {
    if (largest_free) {
      *largest_free = new_block(bytes);  // grown: the old, too small block is freed
      smallest_fitting = largest_free;
    } else {
      blocks_.push_back(new_block(bytes));
      smallest_fitting = &blocks_.back();
    }
  }
  return Tensor(smallest_fitting->view(layout));
}

bool GradientBufferPool::held_only_by(const Tensor& tensor) const {
  // The caller's tensor is the view's only handle, and that view the block's only user.
  if (tensor.empty() || tensor.memory().handle_count() != 1) return false;
  for (const kernels::Memory& block : blocks_) {
    if (block.data() == tensor.memory().data()) return block.handle_count() == 2;
  }
  return false;
}

size_t GradientBufferPool::bytes() const {
  size_t total = 0;
  for (const kernels::Memory& block : blocks_) total += block.layout().bytes();
  return total;
}

size_t GradientBufferPool::buffers_in_use() const {
  size_t count = 0;
  for (const kernels::Memory& block : blocks_) count += is_free(block) ? 0 : 1;
  return count;
}

}  // namespace convoy
