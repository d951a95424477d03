#pragma once
// Private to framework/kernels/: writing a primitive's result into a caller's buffer whose layout
// may differ from the one the primitive chose (the mirror image of reorder_if_needed).

#include <dnnl.hpp>

#include <unordered_map>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"

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

// Runs a forward primitive that reads SRC and writes DST (and a workspace when it keeps one for
// backward), converting the caller's buffers to and from the layouts the primitive was built for.
inline void execute_source_to_destination(dnnl::primitive& primitive,
                                          const dnnl::memory::desc& source_desc,
                                          const dnnl::memory::desc& destination_desc,
                                          const Memory& source, const Memory& destination,
                                          dnnl::memory& source_scratch,
                                          dnnl::memory& destination_scratch,
                                          const dnnl::memory& workspace) {
  auto src = reorder_if_needed(dnnl_memory_of(source), source_desc, source_scratch);
  auto dst_user = dnnl_memory_of(destination);
  auto dst = destination_for(dst_user, destination_desc, destination_scratch);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
  if (workspace) args[DNNL_ARG_WORKSPACE] = workspace;
  execute(primitive, args);
  copy_back_if_needed(dst, dst_user);
}

}  // namespace convoy::kernels
