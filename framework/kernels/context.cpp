#include "framework/kernels/context.hpp"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/kernel_timing.hpp"

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

namespace {
std::atomic<bool> timing_enabled{false};
std::mutex timing_mutex;
KernelTiming timing_totals;
}  // namespace

void set_kernel_timing(bool enabled) { timing_enabled = enabled; }

KernelTiming kernel_timing() {
  std::lock_guard lock(timing_mutex);
  return timing_totals;
}

void reset_kernel_timing() {
  std::lock_guard lock(timing_mutex);
  timing_totals = {};
}

void execute(dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& arguments,
             PrimitiveKind kind) {
  if (!timing_enabled) {
    primitive.execute(stream(), arguments);
    stream().wait();
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  primitive.execute(stream(), arguments);
  stream().wait();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(timing_mutex);
  if (kind == PrimitiveKind::reorder) {
    timing_totals.reorder_seconds += seconds;
    ++timing_totals.reorder_calls;
  } else {
    timing_totals.compute_seconds += seconds;
    ++timing_totals.compute_calls;
    const char* implementation = nullptr;
    dnnl_primitive_desc_query(primitive.get_primitive_desc(), dnnl_query_impl_info_str, 0,
                              &implementation);
    if (is_reference_implementation(implementation)) {
      timing_totals.reference_seconds += seconds;
      ++timing_totals.reference_calls;
    }
  }
}

OwnLoopTimer::OwnLoopTimer() : enabled_(timing_enabled) {
  if (enabled_) start_ = std::chrono::steady_clock::now();
}

OwnLoopTimer::~OwnLoopTimer() {
  if (!enabled_) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::lock_guard lock(timing_mutex);
  timing_totals.own_loop_seconds += seconds;
  ++timing_totals.own_loop_calls;
}

void execute_reorder(dnnl::memory& source, dnnl::memory& destination) {
  dnnl::reorder reorder(source, destination);
  execute(reorder, {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, destination}}, PrimitiveKind::reorder);
}

void set_thread_count(int threads) {
  if (threads < 1)
    throw ConfigError("thread count must be at least 1, got " + std::to_string(threads));
  omp_set_num_threads(threads);
}

int thread_count() { return omp_get_max_threads(); }

// clang-format off
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
// clang-format on

bool cpu_has_bf16() {
  auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

static bool wide_lanes_allowed = true;

bool wide_lanes_in_use() {
  static const bool supported = __builtin_cpu_supports("x86-64-v4");
  return supported && wide_lanes_allowed;
}

void allow_wide_lanes(bool allowed) { wide_lanes_allowed = allowed; }

}  // namespace convoy::kernels
