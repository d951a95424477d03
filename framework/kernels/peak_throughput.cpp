#include "framework/kernels/peak_throughput.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

PeakThroughput measure_peak_throughput(DataType type, int64_t n, int repetitions) {
  using dnnl::memory;
  return guarded("measuring the matmul peak", [&] {
    const auto dnnl_type = to_dnnl(type);
    memory::desc a({n, n}, dnnl_type, memory::format_tag::ab);
    memory::desc b({n, n}, dnnl_type, memory::format_tag::any);
    memory::desc c({n, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::matmul::primitive_desc descriptor(dnnl::matmul::desc(a, b, c), engine());
    memory a_memory(descriptor.src_desc(), engine());
    memory b_memory(descriptor.weights_desc(), engine());
    memory c_memory(descriptor.dst_desc(), engine());
    // Values do not change the speed of a matmul; zeros avoid denormal slow paths.
    std::fill_n(static_cast<char*>(a_memory.get_data_handle()), descriptor.src_desc().get_size(),
                0);
    std::fill_n(static_cast<char*>(b_memory.get_data_handle()),
                descriptor.weights_desc().get_size(), 0);
    dnnl::matmul matmul(descriptor);
    std::vector<double> seconds;
    for (int i = 0; i < repetitions + 1; ++i) {
      auto start = std::chrono::steady_clock::now();
      matmul.execute(
          stream(),
          {{DNNL_ARG_SRC, a_memory}, {DNNL_ARG_WEIGHTS, b_memory}, {DNNL_ARG_DST, c_memory}});
      stream().wait();
      std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      if (i > 0) seconds.push_back(elapsed.count());  // the first run warms caches and JIT
    }
    std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
    const double median = seconds[seconds.size() / 2];
    return PeakThroughput{2.0 * n * n * n / median / 1e9, n, repetitions};
  });
}

}  // namespace convoy::kernels
