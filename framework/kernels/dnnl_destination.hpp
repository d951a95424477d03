#pragma once
// Private to framework/kernels/: writing a primitive's result into a caller's buffer whose layout
// may differ from the one the primitive chose (the mirror image of reorder_if_needed).

#include <dnnl.hpp>

#include "framework/kernels/dnnl_context.hpp"

namespace convoy::kernels {

// The memory the primitive should write: `user` itself when it already has the `wanted` layout,
// otherwise `scratch` (allocated on first use and reused).
inline dnnl::memory destination_for(const dnnl::memory& user, const dnnl::memory::desc& wanted,
                                    dnnl::memory& scratch) {
  if (user.get_desc() == wanted) return user;
  if (!scratch || scratch.get_desc() != wanted) scratch = dnnl::memory(wanted, engine());
  return scratch;
}

// After the primitive ran: converts `written` into `user` when destination_for chose scratch
// (through execute_reorder, so kernel timing counts it).
inline void copy_back_if_needed(dnnl::memory written, dnnl::memory user) {
  if (written.get_data_handle() == user.get_data_handle()) return;
  execute_reorder(written, user);
}

}  // namespace convoy::kernels
