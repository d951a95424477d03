#include "framework/gradient_buffer_pool.hpp"

namespace convoy {

static bool is_free(const Tensor& buffer) { return buffer.memory().handle_count() == 1; }

Tensor GradientBufferPool::acquire(const Layout& layout) {
  // A linear scan: a network needs a few dozen buffers at most, and Layout comparison is cheap.
  for (const Tensor& buffer : buffers_) {
    if (is_free(buffer) && buffer.layout() == layout) return buffer;
  }
  buffers_.emplace_back(layout);
  return buffers_.back();
}

bool GradientBufferPool::held_only_by(const Tensor& tensor) const {
  if (tensor.empty() || tensor.memory().handle_count() != 2) return false;
  for (const Tensor& buffer : buffers_) {
    if (buffer.memory().data() == tensor.memory().data()) return true;
  }
  return false;
}

size_t GradientBufferPool::bytes() const {
  size_t total = 0;
  for (const Tensor& buffer : buffers_) total += buffer.layout().bytes();
  return total;
}

size_t GradientBufferPool::buffers_in_use() const {
  size_t count = 0;
  for (const Tensor& buffer : buffers_) count += is_free(buffer) ? 0 : 1;
  return count;
}

}  // namespace convoy
