#pragma once
// Private to framework/kernels/: the shared oneDNN engine and stream and the error bridge.

#include <dnnl.hpp>
#include <initializer_list>
#include <string>
#include <unordered_map>

namespace convoy::kernels {

dnnl::engine& engine();
dnnl::stream& stream();

[[noreturn]] void throw_dnnl_error(const std::string& what, const dnnl::error& error);

// Runs a oneDNN call and rethrows dnnl::error as convoy::Error naming what was being done.
template <typename Function>
auto guarded(const std::string& what, Function&& function) -> decltype(function()) {
  try {
    return function();
  } catch (const dnnl::error& error) {
    throw_dnnl_error(what, error);
  }
}

// True when oneDNN fell back to its reference loop (implementation "ref:..."): correct, but
// orders of magnitude slower than its jit and gemm implementations.
inline bool is_reference_implementation(const char* name) {
  return name != nullptr && std::string(name).rfind("ref", 0) == 0;
}
template <typename PrimitiveDescriptor>
bool is_reference(const PrimitiveDescriptor& descriptor) {
  return is_reference_implementation(descriptor.impl_info_str());
}

// One name when every pass runs the same implementation, else the passes' names in order,
// "forward | backward" (convoy bench's per-layer column).
inline std::string joined_implementations(std::initializer_list<std::string> names) {
  std::string joined;
  bool all_same = true;
  for (const auto& name : names) {
    all_same = all_same && name == *names.begin();
    joined += (joined.empty() ? "" : " | ") + name;
  }
  return all_same ? *names.begin() : joined;
}

// Attributes that apply ReLU to a primitive's output (a post-op) when `fuse_relu`, none otherwise.
inline dnnl::primitive_attr relu_post_op_if(bool fuse_relu) {
  dnnl::primitive_attr attributes;
  if (fuse_relu) {
    dnnl::post_ops post_ops;
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attributes.set_post_ops(post_ops);
  }
  return attributes;
}

enum class PrimitiveKind { compute, reorder };

// Runs `primitive` on the shared stream and waits; every primitive in framework/kernels/ runs
// through here so kernel timing sees all of them.
void execute(dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& arguments,
             PrimitiveKind kind = PrimitiveKind::compute);
// Reorder `source` into `destination` (any layouts and data types of the same dims).
void execute_reorder(dnnl::memory& source, dnnl::memory& destination);

}  // namespace convoy::kernels
