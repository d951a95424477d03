#include "framework/kernels/pooling.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_destination.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

// Why the pooling kernel is built this way:
// 1. pooling_v2 (oneDNN 2.x) is the pooling that takes a dilation; with dilation 1 it is the
//    plain pooling, so one code path serves MaxPool2d, AvgPool2d and the global/adaptive poolings.
// 2. The source descriptor must be concrete (pooling does not accept format_tag::any for it), so
//    the kernel is built for the layout its producer chose, usually a convolution's blocked
//    nChw16c; the destination uses format_tag::any and oneDNN keeps the same blocking.
// 3. Always forward_training: max pooling then writes the workspace (argmax per window) that
//    backward needs, and a backward after an eval-mode forward stays valid. The workspace holds
//    one small index per output element, a fraction of the input.
// 4. padding_r = padding_l: oneDNN checks dst = (src - extent + pl + pr) / stride + 1 with integer
//    division, which is PyTorch's floor mode. Because PyTorch caps padding at kernel / 2, no
//    window reaches past H + padding, so include-padding averages always divide by kernel^2 in
//    both libraries.
// 5. Backward descriptors reuse the forward's exact source and destination layouts, so the input
//    gradient comes back in the layout the producer of the input works in.

using dnnl::memory;

static int64_t floor_divide(int64_t numerator, int64_t denominator) {
  int64_t quotient = numerator / denominator;
  if ((numerator % denominator != 0) && ((numerator < 0) != (denominator < 0))) --quotient;
  return quotient;
}

Shape PoolingConfig::output_shape() const {
  auto out = [](int64_t size, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
    return floor_divide(size + 2 * padding - dilation * (kernel - 1) - 1, stride) + 1;
  };
  return {input.at(0), input.at(1), out(input.at(2), kernel_h, stride_h, padding_h, dilation_h),
          out(input.at(3), kernel_w, stride_w, padding_w, dilation_w)};
}

static dnnl::algorithm to_dnnl(PoolingAlgorithm algorithm) {
  switch (algorithm) {
    case PoolingAlgorithm::max:
      return dnnl::algorithm::pooling_max;
    case PoolingAlgorithm::average_include_padding:
      return dnnl::algorithm::pooling_avg_include_padding;
    case PoolingAlgorithm::average_exclude_padding:
      return dnnl::algorithm::pooling_avg_exclude_padding;
  }
  throw Error("unknown pooling algorithm");
}

struct Pooling::Impl {
  PoolingConfig config;
  dnnl::pooling_v2_forward::primitive_desc forward_descriptor;
  dnnl::pooling_v2_backward::primitive_desc backward_descriptor;
  dnnl::pooling_v2_forward forward;
  dnnl::pooling_v2_backward backward;
  memory workspace;  // argmax of each window (max pooling only), written by forward
  // Scratch buffers reused every step for layout conversions.
  memory source_scratch, destination_scratch, destination_grad_scratch, source_grad_scratch;
};

Pooling::Pooling(const PoolingConfig& config) : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  if (c.input.size() != 4) {
    throw ShapeError("Pooling expects an (N, C, H, W) input, got " + to_string(c.input));
  }
  if (c.kernel_h < 1 || c.kernel_w < 1 || c.stride_h < 1 || c.stride_w < 1 || c.dilation_h < 1 ||
      c.dilation_w < 1 || c.padding_h < 0 || c.padding_w < 0) {
    throw ShapeError("Pooling needs kernel, stride and dilation >= 1 and padding >= 0");
  }
  const Shape output = c.output_shape();
  if (output[2] < 1 || output[3] < 1) {
    throw ShapeError("Pooling output would be empty: input " + to_string(c.input) +
                     " with kernel " + std::to_string(c.kernel_h) + "x" +
                     std::to_string(c.kernel_w) + " gives " + to_string(output));
  }
  if (c.source_layout.empty()) c.source_layout = Layout::plain(c.input);
  if (c.source_layout.dims() != c.input) {
    throw ShapeError("Pooling source layout " + c.source_layout.describe() +
                     " does not match the input " + to_string(c.input));
  }
  const memory::desc source = desc_of(c.source_layout);
  const memory::desc destination_any(to_dnnl_dims(output), source.data_type(),
                                     memory::format_tag::any);
  const memory::dims strides{c.stride_h, c.stride_w};
  const memory::dims kernel{c.kernel_h, c.kernel_w};
  const memory::dims dilation{c.dilation_h - 1, c.dilation_w - 1};
  const memory::dims padding{c.padding_h, c.padding_w};
  const auto algorithm = to_dnnl(c.algorithm);

  guarded("creating the pooling for input " + c.source_layout.describe(), [&] {
    impl_->forward_descriptor = dnnl::pooling_v2_forward::primitive_desc(
        dnnl::pooling_v2_forward::desc(dnnl::prop_kind::forward_training, algorithm, source,
                                       destination_any, strides, kernel, dilation, padding,
                                       padding),
        engine());
    const auto& forward = impl_->forward_descriptor;
    impl_->backward_descriptor = dnnl::pooling_v2_backward::primitive_desc(
        dnnl::pooling_v2_backward::desc(algorithm, forward.src_desc(), forward.dst_desc(), strides,
                                        kernel, dilation, padding, padding),
        engine(), forward);
    impl_->forward = dnnl::pooling_v2_forward(forward);
    impl_->backward = dnnl::pooling_v2_backward(impl_->backward_descriptor);
    if (!forward.workspace_desc().is_zero()) {
      impl_->workspace = memory(forward.workspace_desc(), engine());
    }
  });
}

Pooling::~Pooling() = default;
Pooling::Pooling(Pooling&&) noexcept = default;
Pooling& Pooling::operator=(Pooling&&) noexcept = default;

const PoolingConfig& Pooling::config() const { return impl_->config; }
std::string Pooling::implementation() const {
  return joined_implementations(
      {impl_->forward_descriptor.impl_info_str(), impl_->backward_descriptor.impl_info_str()});
}

Layout Pooling::destination_layout() const {
  return to_layout(impl_->forward_descriptor.dst_desc());
}
Layout Pooling::source_layout() const {
  return to_layout(impl_->backward_descriptor.diff_src_desc());
}

void Pooling::forward(const Memory& source, const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.forward_descriptor;
  guarded("running the pooling forward", [&] {
    execute_source_to_destination(s.forward, descriptor.src_desc(), descriptor.dst_desc(), source,
                                  destination, s.source_scratch, s.destination_scratch,
                                  s.workspace);
  });
}

void Pooling::backward(const Memory& destination_grad, const Memory& source_grad) {
  auto& s = *impl_;
  const auto& descriptor = s.backward_descriptor;
  guarded("running the pooling backward", [&] {
    auto diff_dst = reorder_if_needed(dnnl_memory_of(destination_grad), descriptor.diff_dst_desc(),
                                      s.destination_grad_scratch);
    auto diff_src_user = dnnl_memory_of(source_grad);
    auto diff_src =
        destination_for(diff_src_user, descriptor.diff_src_desc(), s.source_grad_scratch);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_DIFF_SRC, diff_src}};
    if (s.workspace) args[DNNL_ARG_WORKSPACE] = s.workspace;
    execute(s.backward, args);
    copy_back_if_needed(diff_src, diff_src_user);
  });
}

}  // namespace convoy::kernels
