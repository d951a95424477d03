#include "framework/kernels/batch_normalization.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/nhwc_batch_normalization.hpp"

namespace convoy::kernels {

// Why the batch-normalization kernel is built this way:
// 1. use_scale | use_shift (not the older use_scale_shift) so gamma and beta are two separate
//    (C) arrays: the parameters' plain buffers are handed to oneDNN without packing.
// 2. The training forward descriptor is the hint for backward; prop_kind::backward yields
//    diff_scale and diff_shift, backward_data (no affine) only diff_src.
// 3. With fuse_relu the forward writes a workspace (the ReLU mask) that backward needs; it is
//    owned here and overwritten by each forward_training.
// 4. Inference uses use_global_stats, so mean and variance are inputs (the running statistics).
// 5. f32 NHWC inputs (between Winograd layers) skip the primitives: oneDNN 2.6 runs them with
//    bnorm_tbb_jit, slower than its blocked bnorm_jit, and convoy's own loops are faster still.
//    Their destination and source gradient are NHWC too, so a chain of Winograd layers and
//    BatchNorms needs no reorder.

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
  bool own_nhwc_loops = false;  // no primitives: nhwc_batch_normalization

  // The layout an entry point runs in: the input's own with the own loops, otherwise the one its
  // primitive chose (the primitives keep their input's layout, as the own loops do). With the own
  // loops the primitive's descriptor is empty, so it is not queried.
  memory::desc data_layout(const dnnl::primitive_desc_base& primitive) const {
    return own_nhwc_loops ? desc_of(config.source) : primitive.src_desc();
  }
};

static bool runs_own_loops(const BatchNormalizationConfig& c) {
  return c.own_nhwc_loops && c.source.is_nhwc() && c.source.data_type() == DataType::f32;
}

BatchNormalization::BatchNormalization(const BatchNormalizationConfig& config)
    : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  const Shape dims = c.source.dims();
  if (dims.size() != 4 && dims.size() != 2) {
    throw ShapeError("BatchNormalization expects an (N, C, H, W) or (N, C) input, got " +
                     to_string(dims));
  }
  impl_->channel_desc = memory::desc({dims[1]}, memory::data_type::f32, memory::format_tag::x);
  if (runs_own_loops(c)) {
    impl_->own_nhwc_loops = true;
    return;
  }
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
  if (impl_->own_nhwc_loops) return "own nhwc loops";
  return joined_implementations(
      {impl_->training_descriptor.impl_info_str(), impl_->backward_descriptor.impl_info_str()});
}
Layout BatchNormalization::destination_layout() const {
  if (impl_->own_nhwc_loops) return impl_->config.source;
  return to_layout(impl_->training_descriptor.dst_desc());
}
Layout BatchNormalization::source_grad_layout() const {
  if (impl_->own_nhwc_loops) return impl_->config.source;
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

// The own loops' view of the input and of the per-channel parameters.
static nhwc_batch_normalization::Rows rows_of(const Layout& source) {
  const Shape dims = source.dims();
  return {dims[0] * dims[2] * dims[3], dims[1]};
}
static nhwc_batch_normalization::Parameters own_parameters(const BatchNormalizationConfig& c,
                                                           const Memory& scale,
                                                           const Memory& shift) {
  return {c.affine ? static_cast<const float*>(scale.data()) : nullptr,
          c.affine ? static_cast<const float*>(shift.data()) : nullptr, c.epsilon, c.fuse_relu};
}
static float* floats(const memory& buffer) { return static_cast<float*>(buffer.get_data_handle()); }
static float* floats(const Memory& buffer) { return static_cast<float*>(buffer.data()); }

void BatchNormalization::forward_training(const Memory& source, const Memory& scale,
                                          const Memory& shift, const Memory& destination,
                                          const Memory& mean, const Memory& variance) {
  auto& s = *impl_;
  guarded("running the batch normalization forward (training)", [&] {
    const auto data = s.data_layout(s.training_descriptor);
    auto src =
        reorder_into_transient_if_needed(dnnl_memory_of(source), data, TransientRole::source);
    run_into(data, destination, [&](const memory& dst) {
      if (s.own_nhwc_loops) {
        nhwc_batch_normalization::forward_training(floats(src), rows_of(s.config.source),
                                                   own_parameters(s.config, scale, shift),
                                                   floats(dst), floats(mean), floats(variance));
        return;
      }
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
  guarded("running the batch normalization forward (inference)", [&] {
    const auto data = s.data_layout(s.inference_descriptor);
    auto src =
        reorder_into_transient_if_needed(dnnl_memory_of(source), data, TransientRole::source);
    run_into(data, destination, [&](const memory& dst) {
      if (s.own_nhwc_loops) {
        nhwc_batch_normalization::forward_inference(floats(src), rows_of(s.config.source),
                                                    own_parameters(s.config, scale, shift),
                                                    floats(mean), floats(variance), floats(dst));
        return;
      }
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
  guarded("running the batch normalization backward", [&] {
    const auto data = s.data_layout(s.backward_descriptor);
    auto src =
        reorder_into_transient_if_needed(dnnl_memory_of(source), data, TransientRole::source);
    // A consumer in another layout (a primitive convolution after an NHWC Winograd layer's
    // BatchNorm) hands its gradient over in that layout: converted in the shared buffer, not a
    // per-layer one.
    auto diff_dst = reorder_into_transient_if_needed(dnnl_memory_of(destination_grad), data,
                                                     TransientRole::destination_grad);
    run_into(data, source_grad, [&](const memory& diff_src) {
      if (s.own_nhwc_loops) {
        nhwc_batch_normalization::backward(floats(src), floats(diff_dst), rows_of(s.config.source),
                                           own_parameters(s.config, scale, shift), floats(mean),
                                           floats(variance), floats(diff_src),
                                           s.config.affine ? floats(scale_grad) : nullptr,
                                           s.config.affine ? floats(shift_grad) : nullptr);
        return;
      }
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
