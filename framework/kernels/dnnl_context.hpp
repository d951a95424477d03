#pragma once
// Private to framework/kernels/: the shared oneDNN engine and stream and the error bridge.

#include <dnnl.hpp>
#include <string>

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

}  // namespace convoy::kernels
