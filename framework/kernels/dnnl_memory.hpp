#pragma once
// Private to framework/kernels/: how Layout and Memory wrap oneDNN objects.

#include <dnnl.hpp>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct Layout::Impl {
  dnnl::memory::desc desc;
};

struct Memory::Impl {
  dnnl::memory memory;
};

inline Layout to_layout(const dnnl::memory::desc& desc) {
  return Layout(std::make_shared<const Layout::Impl>(Layout::Impl{desc}));
}
inline const dnnl::memory::desc& desc_of(const Layout& layout) { return layout.impl().desc; }
inline dnnl::memory dnnl_memory_of(const Memory& memory) { return memory.impl().memory; }

dnnl::memory::data_type to_dnnl(DataType type);
dnnl::memory::dims to_dnnl_dims(const Shape& shape);

// Returns `memory` if it already has `wanted` layout, otherwise reorders it into `scratch`
// (allocated on first use and reused) and returns that.
dnnl::memory reorder_if_needed(dnnl::memory memory, const dnnl::memory::desc& wanted,
                               dnnl::memory& scratch);

}  // namespace convoy::kernels
