#include "framework/kernels/local_response_normalization.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_destination.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

// Why the LRN kernel is built this way:
// 1. oneDNN's lrn_across_channels divides alpha by local_size, like PyTorch (whose
//    LocalResponseNorm is an avg_pool3d of a^2 over channels with count_include_pad), so alpha is
//    passed through unchanged; the layer test checks this against a loop of PyTorch's formula.
// 2. oneDNN's window is c - (size-1)/2 .. c + (size-1)/2, PyTorch's c - size/2 .. c + (size-1)/2.
//    They agree for odd sizes only (AlexNet uses 5). Measured with oneDNN 2.6.3 for size 4: it
//    sums 3 channels (c-1..c+1) but still divides alpha by 4, so even sizes are rejected.
// 3. The source descriptor is the producer's layout (LRN has no format_tag::any for data); the
//    destination and both gradients share it. Always forward_training, for the workspace.

using dnnl::memory;

struct LocalResponseNormalization::Impl {
  LocalResponseNormalizationConfig config;
  dnnl::lrn_forward::primitive_desc forward_descriptor;
  dnnl::lrn_backward::primitive_desc backward_descriptor;
  dnnl::lrn_forward forward;
  dnnl::lrn_backward backward;
  memory workspace;  // written by forward, read by backward (empty if the implementation has none)
  // Scratch buffers reused every step for layout conversions.
  memory source_scratch, destination_scratch, destination_grad_scratch, source_grad_scratch;
};

LocalResponseNormalization::LocalResponseNormalization(
    const LocalResponseNormalizationConfig& config)
    : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  if (c.input.size() != 4) {
    throw ShapeError("LocalResponseNormalization expects an (N, C, H, W) input, got " +
                     to_string(c.input));
  }
  if (c.size < 1 || c.size % 2 == 0) {
    throw ShapeError("LocalResponseNormalization size must be odd and positive, got " +
                     std::to_string(c.size));
  }
  if (c.source_layout.empty()) c.source_layout = Layout::plain(c.input);
  if (c.source_layout.dims() != c.input) {
    throw ShapeError("LocalResponseNormalization source layout " + c.source_layout.describe() +
                     " does not match the input " + to_string(c.input));
  }
  const memory::desc source = desc_of(c.source_layout);
  const auto algorithm = dnnl::algorithm::lrn_across_channels;
  guarded("creating the LRN for input " + c.source_layout.describe(), [&] {
    impl_->forward_descriptor = dnnl::lrn_forward::primitive_desc(
        dnnl::lrn_forward::desc(dnnl::prop_kind::forward_training, algorithm, source, c.size,
                                c.alpha, c.beta, c.k),
        engine());
    const auto& forward = impl_->forward_descriptor;
    impl_->backward_descriptor = dnnl::lrn_backward::primitive_desc(
        dnnl::lrn_backward::desc(algorithm, forward.src_desc(), forward.dst_desc(), c.size, c.alpha,
                                 c.beta, c.k),
        engine(), forward);
    impl_->forward = dnnl::lrn_forward(forward);
    impl_->backward = dnnl::lrn_backward(impl_->backward_descriptor);
    if (!forward.workspace_desc().is_zero()) {
      impl_->workspace = memory(forward.workspace_desc(), engine());
    }
  });
}

LocalResponseNormalization::~LocalResponseNormalization() = default;
LocalResponseNormalization::LocalResponseNormalization(LocalResponseNormalization&&) noexcept =
    default;
LocalResponseNormalization& LocalResponseNormalization::operator=(
    LocalResponseNormalization&&) noexcept = default;

const LocalResponseNormalizationConfig& LocalResponseNormalization::config() const {
  return impl_->config;
}

Layout LocalResponseNormalization::destination_layout() const {
  return to_layout(impl_->forward_descriptor.dst_desc());
}
Layout LocalResponseNormalization::source_layout() const {
  return to_layout(impl_->backward_descriptor.diff_src_desc());
}

void LocalResponseNormalization::forward(const Memory& source, const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.forward_descriptor;
  guarded("running the LRN forward", [&] {
    execute_source_to_destination(s.forward, descriptor.src_desc(), descriptor.dst_desc(), source,
                                  destination, s.source_scratch, s.destination_scratch,
                                  s.workspace);
  });
}

void LocalResponseNormalization::backward(const Memory& source, const Memory& destination_grad,
                                          const Memory& source_grad) {
  auto& s = *impl_;
  const auto& descriptor = s.backward_descriptor;
  guarded("running the LRN backward", [&] {
    auto src = reorder_if_needed(dnnl_memory_of(source), descriptor.src_desc(), s.source_scratch);
    auto diff_dst = reorder_if_needed(dnnl_memory_of(destination_grad), descriptor.diff_dst_desc(),
                                      s.destination_grad_scratch);
    auto diff_src_user = dnnl_memory_of(source_grad);
    auto diff_src =
        destination_for(diff_src_user, descriptor.diff_src_desc(), s.source_grad_scratch);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}};
    if (s.workspace) args[DNNL_ARG_WORKSPACE] = s.workspace;
    execute(s.backward, args);
    copy_back_if_needed(diff_src, diff_src_user);
  });
}

}  // namespace convoy::kernels
