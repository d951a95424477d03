#pragma once
// Layout and Memory: convoy's handles on oneDNN memory descriptors and buffers, so that code
// outside framework/kernels/ never sees dnnl.hpp.

#include <cstddef>
#include <memory>
#include <string>

#include "framework/common/shape.hpp"

namespace convoy::kernels {

enum class DataType { f32, bf16 };

// How a tensor's elements sit in memory: logical dims, data type and physical format
// (plain row-major NCHW/NC/X, or a blocked format a primitive chose, such as nChw16c).
class Layout {
 public:
  Layout();
  // Row-major layout of the given logical dims (nchw for 4-D, nc for 2-D, x for 1-D).
  static Layout plain(const Shape& dims, DataType type = DataType::f32);
  // Channels innermost ("channels last") of 4-D (N, C, H, W) dims, as the Winograd layers keep
  // their activations.
  static Layout nhwc(const Shape& dims, DataType type = DataType::f32);

  Shape dims() const;
  DataType data_type() const;
  size_t bytes() const;
  bool is_plain() const;
  bool is_nhwc() const;
  bool empty() const;
  // Same dims and physical format, another element type (for bf16 copies of f32 tensors).
  Layout with_data_type(DataType type) const;
  // e.g. "f32 (8, 16, 32, 32) blocked 16@dim1", "... nhwc" or "... plain", for logs and errors
  std::string describe() const;

  bool operator==(const Layout& other) const;
  bool operator!=(const Layout& other) const { return !(*this == other); }

  struct Impl;
  explicit Layout(std::shared_ptr<const Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// A buffer described by a Layout: owned, or a view over memory someone else owns (the
// parameter arena). Copies share the buffer.
class Memory {
 public:
  Memory();
  explicit Memory(const Layout& layout);                // allocates, zero-filled
  Memory(const Layout& layout, void* external_buffer);  // view; caller keeps the buffer alive

  const Layout& layout() const { return layout_; }
  void* data() const;
  bool empty() const { return impl_ == nullptr; }
  // The first layout.bytes() of this buffer seen with another layout. The view keeps the buffer
  // alive and counts as one of its handles while any copy of the view exists.
  Memory view(const Layout& layout) const;
  // How many Memory handles share this buffer (a view over an external buffer counts only its
  // own handles). GradientBufferPool reuses a buffer once its own handle is the last one.
  long handle_count() const { return impl_.use_count(); }

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Layout layout_;
  std::shared_ptr<Impl> impl_;
};

// Converts between layouts and data types (oneDNN reorder); dims must match.
void reorder(const Memory& source, const Memory& destination);

// destination += source, converting layouts as needed (fan-out gradient accumulation).
void accumulate(const Memory& source, const Memory& destination);

}  // namespace convoy::kernels
