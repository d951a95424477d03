#include "framework/kernels/context.hpp"

#include <omp.h>

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"

namespace convoy::kernels {

dnnl::engine& engine() {
  static dnnl::engine instance(dnnl::engine::kind::cpu, 0);
  return instance;
}

dnnl::stream& stream() {
  static dnnl::stream instance(engine());
  return instance;
}

void throw_dnnl_error(const std::string& what, const dnnl::error& error) {
  throw Error("oneDNN failed while " + what + ": " + error.what() + " (status " +
              std::to_string(static_cast<int>(error.status)) + ")");
}

void set_thread_count(int threads) {
  if (threads < 1) throw ConfigError("thread count must be at least 1, got " + std::to_string(threads));
  omp_set_num_threads(threads);
}

int thread_count() { return omp_get_max_threads(); }

const char* cpu_isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::sse41: return "sse41";
    default: return "other";
  }
}

bool cpu_has_bf16() {
  auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

}  // namespace convoy::kernels
