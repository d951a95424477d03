#include "framework/kernels/batch_normalization.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

// Why the batch-normalization kernel is built this way:
// 1. use_scale | use_shift (not the older use_scale_shift) so gamma and beta are two separate
//    (C) arrays: the parameters' plain buffers are handed to oneDNN without packing.
// 2. The training forward descriptor is the hint for backward; prop_kind::backward yields
//    diff_scale and diff_shift, backward_data (no affine) only diff_src.
// 3. With fuse_relu the forward writes a workspace (the ReLU mask) that backward needs; it is
//    owned here and overwritten by each forward_training.
// 4. Inference uses use_global_stats, so mean and variance are inputs (the running statistics).

using dnnl::memory;
using flags = dnnl::normalization_flags;

struct BatchNormalization::Impl {
  BatchNormalizationConfig config;
  memory::desc channel_desc;  // plain (C) f32: scale, shift, mean, variance
  dnnl::batch_normalization_forward::primitive_desc training_descriptor;
  dnnl::batch_normalization_forward::primitive_desc inference_descriptor;
  dnnl::batch_normalization_backward::primitive_desc backward_descriptor;
  dnnl::batch_normalization_forward training;
  dnnl::batch_normalization_forward inference;
  dnnl::batch_normalization_backward backward;
  memory workspace;
};

BatchNormalization::BatchNormalization(const BatchNormalizationConfig& config)
    : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  const Shape dims = c.source.dims();
  if (dims.size() != 4 && dims.size() != 2) {
    throw ShapeError("BatchNormalization expects an (N, C, H, W) or (N, C) input, got " +
                     to_string(dims));
  }
  impl_->channel_desc = memory::desc({dims[1]}, memory::data_type::f32, memory::format_tag::x);
  flags affine = c.affine ? (flags::use_scale | flags::use_shift) : flags::none;
  flags relu = c.fuse_relu ? flags::fuse_norm_relu : flags::none;
  const auto& data = desc_of(c.source);
  guarded("creating the batch normalization for input " + c.source.describe(), [&] {
    impl_->training_descriptor = dnnl::batch_normalization_forward::primitive_desc(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, data, c.epsilon,
                                                affine | relu),
        engine());
    impl_->inference_descriptor = dnnl::batch_normalization_forward::primitive_desc(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_inference, data, c.epsilon,
                                                affine | relu | flags::use_global_stats),
        engine());
    impl_->backward_descriptor = dnnl::batch_normalization_backward::primitive_desc(
        dnnl::batch_normalization_backward::desc(
            c.affine ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data, data, data,
            c.epsilon, affine | relu),
        engine(), impl_->training_descriptor);
    impl_->training = dnnl::batch_normalization_forward(impl_->training_descriptor);
    impl_->inference = dnnl::batch_normalization_forward(impl_->inference_descriptor);
    impl_->backward = dnnl::batch_normalization_backward(impl_->backward_descriptor);
    if (c.fuse_relu)
      impl_->workspace = memory(impl_->training_descriptor.workspace_desc(), engine());
  });
}

BatchNormalization::~BatchNormalization() = default;
BatchNormalization::BatchNormalization(BatchNormalization&&) noexcept = default;
BatchNormalization& BatchNormalization::operator=(BatchNormalization&&) noexcept = default;

const BatchNormalizationConfig& BatchNormalization::config() const { return impl_->config; }
std::string BatchNormalization::implementation() const {
  return joined_implementations(
      {impl_->training_descriptor.impl_info_str(), impl_->backward_descriptor.impl_info_str()});
}
Layout BatchNormalization::destination_layout() const {
  return to_layout(impl_->training_descriptor.dst_desc());
}
Layout BatchNormalization::source_grad_layout() const {
  return to_layout(impl_->backward_descriptor.diff_src_desc());
}

// A (C) array viewed with the descriptor the primitive expects.
static memory channel_view(const BatchNormalization::Impl& s, const Memory& tensor) {
  return memory(s.channel_desc, engine(), tensor.data());
}

// The per-channel arguments every batch normalization primitive takes; callers add the data.
static std::unordered_map<int, memory> channel_arguments(const BatchNormalization::Impl& s,
                                                         const Memory& mean, const Memory& variance,
                                                         const Memory& scale, const Memory& shift) {
  std::unordered_map<int, memory> args{{DNNL_ARG_MEAN, channel_view(s, mean)},
                                       {DNNL_ARG_VARIANCE, channel_view(s, variance)}};
  if (s.config.affine) {
    args[DNNL_ARG_SCALE] = channel_view(s, scale);
    args[DNNL_ARG_SHIFT] = channel_view(s, shift);
  }
  return args;
}

// The destination itself when its layout matches, otherwise a reorder after the call.
template <typename Run>
static void run_into(const memory::desc& wanted, const Memory& destination, Run&& run) {
  auto user = dnnl_memory_of(destination);
  if (user.get_desc() == wanted) {
    run(user);
    return;
  }
  memory scratch(wanted, engine());
  run(scratch);
  execute_reorder(scratch, user);
}

void BatchNormalization::forward_training(const Memory& source, const Memory& scale,
                                          const Memory& shift, const Memory& destination,
                                          const Memory& mean, const Memory& variance) {
  auto& s = *impl_;
  const auto& descriptor = s.training_descriptor;
  guarded("running the batch normalization forward (training)", [&] {
    auto src = reorder_into_transient_if_needed(dnnl_memory_of(source), descriptor.src_desc(),
                                                TransientRole::source);
    run_into(descriptor.dst_desc(), destination, [&](const memory& dst) {
      auto args = channel_arguments(s, mean, variance, scale, shift);
      args[DNNL_ARG_SRC] = src;
      args[DNNL_ARG_DST] = dst;
      if (s.config.fuse_relu) args[DNNL_ARG_WORKSPACE] = s.workspace;
      execute(s.training, args);
    });
  });
}

void BatchNormalization::forward_inference(const Memory& source, const Memory& scale,
                                           const Memory& shift, const Memory& mean,
                                           const Memory& variance, const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.inference_descriptor;
  guarded("running the batch normalization forward (inference)", [&] {
    auto src = reorder_into_transient_if_needed(dnnl_memory_of(source), descriptor.src_desc(),
                                                TransientRole::source);
    run_into(descriptor.dst_desc(), destination, [&](const memory& dst) {
      auto args = channel_arguments(s, mean, variance, scale, shift);
      args[DNNL_ARG_SRC] = src;
      args[DNNL_ARG_DST] = dst;
      execute(s.inference, args);
    });
  });
}

void BatchNormalization::backward(const Memory& source, const Memory& destination_grad,
                                  const Memory& scale, const Memory& shift, const Memory& mean,
                                  const Memory& variance, const Memory& source_grad,
                                  const Memory& scale_grad, const Memory& shift_grad) {
  auto& s = *impl_;
  const auto& descriptor = s.backward_descriptor;
  guarded("running the batch normalization backward", [&] {
    auto src = reorder_into_transient_if_needed(dnnl_memory_of(source), descriptor.src_desc(),
                                                TransientRole::source);
    // A consumer in another layout (a primitive convolution after an NHWC Winograd layer's
    // BatchNorm) hands its gradient over in that layout: converted in the shared buffer, not a
    // per-layer one.
    auto diff_dst = reorder_into_transient_if_needed(dnnl_memory_of(destination_grad),
                                                     descriptor.diff_dst_desc(),
                                                     TransientRole::destination_grad);
    run_into(descriptor.diff_src_desc(), source_grad, [&](const memory& diff_src) {
      auto args = channel_arguments(s, mean, variance, scale, shift);
      args[DNNL_ARG_SRC] = src;
      args[DNNL_ARG_DIFF_DST] = diff_dst;
      args[DNNL_ARG_DIFF_SRC] = diff_src;
      if (s.config.affine) {
        args[DNNL_ARG_DIFF_SCALE] = channel_view(s, scale_grad);
        args[DNNL_ARG_DIFF_SHIFT] = channel_view(s, shift_grad);
      }
      if (s.config.fuse_relu) args[DNNL_ARG_WORKSPACE] = s.workspace;
      execute(s.backward, args);
    });
  });
}

}  // namespace convoy::kernels
