#pragma once
// Private to framework/kernels/: how Layout and Memory wrap oneDNN objects.

#include <dnnl.hpp>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct Layout::Impl {
  dnnl::memory::desc desc;
};

struct Memory::Impl {
  dnnl::memory memory;
  std::shared_ptr<Impl> owner;  // a view (Memory::view) keeps the buffer it looks into alive
};

inline Layout to_layout(const dnnl::memory::desc& desc) {
  return Layout(std::make_shared<const Layout::Impl>(Layout::Impl{desc}));
}
inline const dnnl::memory::desc& desc_of(const Layout& layout) { return layout.impl().desc; }
inline dnnl::memory dnnl_memory_of(const Memory& memory) { return memory.impl().memory; }

// The buffer at `data`, or of `buffer`, seen with `desc` (a matrix view of an activation, the
// plain view of a parameter); nothing is copied, and the caller keeps the buffer alive.
inline dnnl::memory view_as(const dnnl::memory::desc& desc, const void* data) {
  return dnnl::memory(desc, engine(), const_cast<void*>(data));
}
inline dnnl::memory view_as(const dnnl::memory::desc& desc, const dnnl::memory& buffer) {
  return view_as(desc, buffer.get_data_handle());
}

dnnl::memory::data_type to_dnnl(DataType type);
dnnl::memory::dims to_dnnl_dims(const Shape& shape);

// Returns `memory` if it already has `wanted` layout, otherwise reorders it into `scratch`
// (allocated on first use and reused) and returns that.
dnnl::memory reorder_if_needed(dnnl::memory memory, const dnnl::memory::desc& wanted,
                               dnnl::memory& scratch);

// Activation-sized conversions that live only during one kernel call (a convolution's input
// or output gradient in the primitive's layout or in bf16) go to one buffer per role shared by
// every kernel of the process, not one per layer: N layers then hold one copy, not N.
// The lowered convolutions keep their NHWC copies of the input side (x, or dx) and the output
// side (y, or dy) there, Im2colConvolution its column matrix, WinogradConvolution its tiles
// and its transformed filters (or their gradients).
enum class TransientRole {
  source,
  destination_grad,
  lowered_input_rows,
  lowered_output_rows,
  im2col_columns,
  winograd_input_tiles,
  winograd_output_tiles,
  winograd_filters,
  count,  // not a role
};
// The shared buffer of `role`, at least `bytes` long and 64-byte aligned; valid until the next
// call with the same role.
void* transient_buffer(TransientRole role, size_t bytes);
// Like reorder_if_needed, into the shared buffer of `role`. The result is valid until the next
// call with the same role: use it within the calling kernel function only.
dnnl::memory reorder_into_transient_if_needed(dnnl::memory memory, const dnnl::memory::desc& wanted,
                                              TransientRole role);
// Where a result in layout `wanted` is written: `destination` itself if it has that layout, else
// the shared buffer of `role`; deliver() then reorders it into `destination` (if it is not).
dnnl::memory target_in_layout(const dnnl::memory& destination, const dnnl::memory::desc& wanted,
                              TransientRole role);
void deliver(const dnnl::memory& result, const dnnl::memory& destination);

}  // namespace convoy::kernels
