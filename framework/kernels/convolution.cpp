#include "framework/kernels/convolution.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/im2col_convolution.hpp"
#include "framework/kernels/whole_map_convolution.hpp"
#include "framework/kernels/winograd_convolution.hpp"

namespace convoy::kernels {

// Why the convolution kernel is built this way:
// 1. All three primitive descriptors use format_tag::any for activations and weights, so oneDNN
//    picks its fastest blocked layouts; the forward descriptor is the hint for both backward ones.
// 2. Master weights stay plain OIHW (one contiguous parameter arena for optimizer, allreduce and
//    checkpoint). They are reordered into the primitive's layout once per step; weights are small
//    next to activations, so this costs little and keeps every other component layout-free.
// 3. padding_r = padding_l: oneDNN checks dst = (src - extent + pl + pr) / stride + 1 with integer
//    division, which is exactly PyTorch's floor formula.
// 4. ReLU can be fused as a post-op; backward then masks the incoming gradient with the saved
//    output (relu'(x) = [y > 0]) through an eltwise backward primitive.
// 5. compute_type bf16 (mixed precision, as torch.autocast): the activations in and out are
//    bf16, forward (source, destination) and backward (output and input gradients), so the
//    BatchNorms, ReLUs, pools and residual sums between two convolutions read and write half
//    the bytes and no conversion runs between layers. The weights are converted from the f32
//    master copy on the way in (the same reorder that changes their layout) and the weight
//    gradient is written in f32, so allreduce, optimizer and checkpoint never see bf16.
//    An f32 input (the image batch) is converted into the shared transient buffer.
// 6. Backward-weights reads the source in the forward's layout, so no reorder runs between
//    them. Where no optimized implementation takes that layout, oneDNN falls back to its
//    reference loop (2.6 on AVX2 does for 512 channels on 2x2 maps: 100x slower, 97 % of a
//    vgg11_bn step); the layout is then left to oneDNN, which picks a gemm implementation on a
//    plain layout, and the source is reordered once per step instead.
// 7. Where every output position's window covers the whole input map (VGG's 2x2 maps), all
//    three passes run as matmuls instead (WholeMapConvolution; 3.6x per layer on AVX2); the
//    convolution primitives still choose the activation layouts, so neighbours see no change.
// 8. Elsewhere, small maps with many channels on AVX2 (resnet18's 4x4 and resnet50's 7x7 maps)
//    run as im2col + matmul (Im2colConvolution; 1.3-1.6x per layer), again in the layouts the
//    primitives chose.
// 9. Before im2col: 3x3 stride-1 convolutions with at least 16 (AVX2) or 32 (AVX-512) channels
//    in and out run as Winograd F(2x2, 3x3) or F(4x4, 3x3) tiles and matmuls
//    (WinogradConvolution; on AVX2 0.45-0.86 of the direct convolution's time per layer in
//    resnet18, vgg11_bn and resnet50 with 2x2 blocks, 4x4 blocks another 0.64-0.88 where the rule
//    picks them; on AVX-512 0.38-0.94 with the rule's blocks; in bf16 from 256 channels, 2x2
//    blocks on bf16 matmuls), again in the layouts the primitives chose. The lowered paths run
//    in place of the primitives, which are then not created.

using dnnl::memory;

Shape ConvolutionConfig::output_shape() const {
  auto out = [](int64_t size, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
    const int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
    // C++ division truncates toward zero; a kernel larger than the padded input gives 0.
    return span < 0 ? int64_t{0} : span / stride + 1;
  };
  return {input.at(0), out_channels, out(input.at(2), kernel_h, stride_h, padding_h, dilation_h),
          out(input.at(3), kernel_w, stride_w, padding_w, dilation_w)};
}

struct Convolution::Impl {
  ConvolutionConfig config;
  memory::desc plain_weights;  // oihw or goihw view of the canonical OIHW tensor
  memory::desc plain_bias;
  dnnl::convolution_forward::primitive_desc forward_descriptor;
  dnnl::convolution_backward_data::primitive_desc backward_data_descriptor;
  dnnl::convolution_backward_weights::primitive_desc backward_weights_descriptor;
  dnnl::eltwise_backward::primitive_desc relu_backward_descriptor;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
  dnnl::eltwise_backward relu_backward;
  // Scratch buffers reused every step for layout conversions.
  // Input and output-gradient conversions go to the shared transient buffers instead.
  memory forward_weights, backward_weights_input, destination_scratch, source_grad_scratch,
      weights_grad_scratch, masked_grad, relu_output_scratch, backward_weights_destination_grad;
  bool masked_grad_current = false;  // backward_data masked this step's gradient already
  // Where set, the three passes run as matmuls and the primitives above are not created.
  std::unique_ptr<LoweredConvolution> lowered;
};

Convolution::Convolution(const ConvolutionConfig& config) : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  if (c.input.size() != 4) {
    throw ShapeError("Convolution expects an (N, C, H, W) input, got " + to_string(c.input));
  }
  const int64_t channels = c.input[1];
  const Shape output = c.output_shape();
  if (output[2] < 1 || output[3] < 1) {
    throw ShapeError("Convolution output would be empty: input " + to_string(c.input) +
                     " with kernel " + std::to_string(c.kernel_h) + "x" +
                     std::to_string(c.kernel_w) + " gives " + to_string(output));
  }
  const auto type = to_dnnl(c.compute_type);
  const auto f32 = memory::data_type::f32;
  memory::dims weights_dims = c.groups == 1
                                  ? memory::dims{c.out_channels, channels, c.kernel_h, c.kernel_w}
                                  : memory::dims{c.groups, c.out_channels / c.groups,
                                                 channels / c.groups, c.kernel_h, c.kernel_w};
  impl_->plain_weights =
      memory::desc(weights_dims, memory::data_type::f32,
                   c.groups == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
  impl_->plain_bias = memory::desc({c.out_channels}, memory::data_type::f32, memory::format_tag::x);

  memory::desc source_any(to_dnnl_dims(c.input), type, memory::format_tag::any);
  memory::desc destination_any(to_dnnl_dims(output), type, memory::format_tag::any);
  memory::desc destination_grad_any(to_dnnl_dims(output), type, memory::format_tag::any);
  memory::desc weights_any(weights_dims, type, memory::format_tag::any);
  memory::desc weights_grad_any(weights_dims, f32, memory::format_tag::any);
  memory::desc bias_any =
      c.bias ? memory::desc({c.out_channels}, memory::data_type::f32, memory::format_tag::any)
             : memory::desc();
  memory::dims strides{c.stride_h, c.stride_w};
  memory::dims dilates{c.dilation_h - 1, c.dilation_w - 1};
  memory::dims padding{c.padding_h, c.padding_w};

  guarded("creating the convolution for input " + to_string(c.input), [&] {
    const auto attributes = relu_post_op_if(c.fuse_relu);
    // The forward and backward-data descriptors for activations (and their gradients) in the
    // given layouts: `any` lets the primitives choose.
    auto choose_layouts = [&](const memory::desc& source, const memory::desc& destination) {
      impl_->forward_descriptor = dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(
              dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, source,
              weights_any, bias_any, destination, strides, dilates, padding, padding),
          attributes, engine());
      impl_->backward_data_descriptor = dnnl::convolution_backward_data::primitive_desc(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, source,
                                                weights_any, destination, strides, dilates, padding,
                                                padding),
          engine(), impl_->forward_descriptor);
    };
    choose_layouts(source_any, destination_any);
    const auto& forward = impl_->forward_descriptor;
    // The whole-map path reads and writes activations and their gradients in one layout each;
    // where it runs, the convolution primitives serve only to choose those layouts.
    // Where forward's layouts pad the channels (AVX-512's 16-channel blocks on 8 or 24), it takes
    // NHWC instead; where backward-data chose other layouts for the gradients than those (AVX-512
    // on few channels), it is given them.
    if (c.paths.whole_map_matmul) {
      memory::desc source = forward.src_desc(), destination = forward.dst_desc();
      impl_->lowered = WholeMapConvolution::create(c, source, destination);
      if (!impl_->lowered) {
        source = memory::desc(to_dnnl_dims(c.input), type, memory::format_tag::nhwc);
        destination = memory::desc(to_dnnl_dims(output), type, memory::format_tag::nhwc);
        impl_->lowered = WholeMapConvolution::create(c, source, destination);
      }
      if (impl_->lowered && (forward.src_desc() != source || forward.dst_desc() != destination ||
                             impl_->backward_data_descriptor.diff_src_desc() != source ||
                             impl_->backward_data_descriptor.diff_dst_desc() != destination)) {
        choose_layouts(source, destination);
      }
    }
    // Forcing one path (always) outranks the other's automatic choice; im2col outranks Winograd.
    const std::string primitive = forward.impl_info_str();
    const bool im2col_forced = c.paths.im2col_matmul == LoweringChoice::always;
    const bool winograd_wanted = c.paths.winograd == LoweringChoice::always ||
                                 (c.paths.winograd == LoweringChoice::automatic &&
                                  WinogradConvolution::preferred(c, primitive));
    if (!impl_->lowered && !im2col_forced && winograd_wanted) {
      impl_->lowered = WinogradConvolution::create(c);
      // Winograd reads and writes NHWC: the layer's activations and gradients take that layout,
      // so a chain of Winograd layers (with the BatchNorms, ReLUs and sums between, which follow
      // their input's layout) runs without reorders. The primitives only name the layouts here.
      if (impl_->lowered) {
        choose_layouts(memory::desc(to_dnnl_dims(c.input), type, memory::format_tag::nhwc),
                       memory::desc(to_dnnl_dims(output), type, memory::format_tag::nhwc));
      }
    }
    const bool im2col_wanted =
        im2col_forced || (c.paths.im2col_matmul == LoweringChoice::automatic &&
                          Im2colConvolution::preferred(c, primitive));
    if (!impl_->lowered && im2col_wanted) impl_->lowered = Im2colConvolution::create(c);
    if (!impl_->lowered) {
      auto backward_weights_for = [&](const memory::desc& source) {
        return dnnl::convolution_backward_weights::primitive_desc(
            dnnl::convolution_backward_weights::desc(
                dnnl::algorithm::convolution_direct, source, weights_grad_any, bias_any,
                destination_grad_any, strides, dilates, padding, padding),
            engine(), forward);
      };
      impl_->backward_weights_descriptor = backward_weights_for(forward.src_desc());
      if (is_reference(impl_->backward_weights_descriptor)) {
        impl_->backward_weights_descriptor = backward_weights_for(source_any);
      }
      impl_->forward = dnnl::convolution_forward(forward);
      impl_->backward_data = dnnl::convolution_backward_data(impl_->backward_data_descriptor);
      impl_->backward_weights =
          dnnl::convolution_backward_weights(impl_->backward_weights_descriptor);
    }
    if (c.fuse_relu) {
      // use_dst_for_bwd: the mask comes from the saved output, so the pre-activation is not kept.
      auto dst = forward.dst_desc();
      impl_->relu_backward_descriptor = dnnl::eltwise_backward::primitive_desc(
          dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, dst, dst,
                                       0.0f, 0.0f),
          engine(),
          dnnl::eltwise_forward::primitive_desc(
              dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training,
                                          dnnl::algorithm::eltwise_relu_use_dst_for_bwd, dst, 0.0f,
                                          0.0f),
              engine()));
      impl_->relu_backward = dnnl::eltwise_backward(impl_->relu_backward_descriptor);
    }
  });
}

std::string Convolution::implementation() const {
  const auto chosen = implementations();
  return joined_implementations({chosen.forward, chosen.backward_data, chosen.backward_weights});
}

ConvolutionImplementations Convolution::implementations() const {
  if (impl_->lowered) {
    const auto name = impl_->lowered->implementation();
    return {name, name, name};
  }
  return {impl_->forward_descriptor.impl_info_str(),
          impl_->backward_data_descriptor.impl_info_str(),
          impl_->backward_weights_descriptor.impl_info_str()};
}

Convolution::~Convolution() = default;
Convolution::Convolution(Convolution&&) noexcept = default;
Convolution& Convolution::operator=(Convolution&&) noexcept = default;

Layout Convolution::destination_layout() const {
  return to_layout(impl_->forward_descriptor.dst_desc());
}
Layout Convolution::source_layout() const {
  // The layer's input gradient is written in this layout (bf16 with compute_type bf16).
  return to_layout(impl_->backward_data_descriptor.diff_src_desc());
}

void Convolution::forward(const Memory& source, const Memory& weights, const Memory& bias,
                          const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.forward_descriptor;
  guarded("running the convolution forward", [&] {
    auto src = reorder_into_transient_if_needed(dnnl_memory_of(source), descriptor.src_desc(),
                                                TransientRole::source);
    auto dst_user = dnnl_memory_of(destination);
    bool direct = dst_user.get_desc() == descriptor.dst_desc();
    if (!direct &&
        (!s.destination_scratch || s.destination_scratch.get_desc() != descriptor.dst_desc())) {
      s.destination_scratch = memory(descriptor.dst_desc(), engine());
    }
    auto dst = direct ? dst_user : s.destination_scratch;
    const auto* bias_values = s.config.bias ? static_cast<const float*>(bias.data()) : nullptr;
    if (s.lowered) {
      s.lowered->forward(src, static_cast<const float*>(weights.data()), bias_values, dst);
    } else {
      auto weights_in = reorder_if_needed(view_as(s.plain_weights, weights.data()),
                                          descriptor.weights_desc(), s.forward_weights);
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights_in}, {DNNL_ARG_DST, dst}};
      if (s.config.bias) args[DNNL_ARG_BIAS] = view_as(s.plain_bias, bias.data());
      execute(s.forward, args);
    }
    if (!direct) execute_reorder(dst, dst_user);
  });
}

// Applies relu' (from the saved output) to the incoming gradient; the result is kept in
// masked_grad for backward_weights, which runs after backward_data.
static memory mask_relu(Convolution::Impl& s, const memory& diff_dst, const Memory& destination);

void Convolution::backward_data(const Memory& destination_grad, const Memory& weights,
                                const Memory& source_grad, const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.backward_data_descriptor;
  guarded("running the convolution backward (data)", [&] {
    auto diff_dst = reorder_into_transient_if_needed(dnnl_memory_of(destination_grad),
                                                     descriptor.diff_dst_desc(),
                                                     TransientRole::destination_grad);
    if (s.config.fuse_relu) {
      diff_dst = mask_relu(s, diff_dst, destination);
      s.masked_grad_current = true;
    }
    auto diff_src_user = dnnl_memory_of(source_grad);
    bool direct = diff_src_user.get_desc() == descriptor.diff_src_desc();
    if (!direct && (!s.source_grad_scratch ||
                    s.source_grad_scratch.get_desc() != descriptor.diff_src_desc())) {
      s.source_grad_scratch = memory(descriptor.diff_src_desc(), engine());
    }
    auto diff_src = direct ? diff_src_user : s.source_grad_scratch;
    if (s.lowered) {
      s.lowered->backward_data(diff_dst, static_cast<const float*>(weights.data()), diff_src);
    } else {
      auto weights_in = reorder_if_needed(view_as(s.plain_weights, weights.data()),
                                          descriptor.weights_desc(), s.backward_weights_input);
      execute(s.backward_data, {{DNNL_ARG_DIFF_DST, diff_dst},
                                {DNNL_ARG_WEIGHTS, weights_in},
                                {DNNL_ARG_DIFF_SRC, diff_src}});
    }
    if (!direct) execute_reorder(diff_src, diff_src_user);
  });
}

void Convolution::backward_weights(const Memory& source, const Memory& destination_grad,
                                   const Memory& weights_grad, const Memory& bias_grad,
                                   const Memory& destination) {
  auto& s = *impl_;
  const auto& descriptor = s.backward_weights_descriptor;
  // The lowered paths take both activations in the forward's layouts.
  const auto& source_layout = s.lowered ? s.forward_descriptor.src_desc() : descriptor.src_desc();
  const auto& destination_grad_layout =
      s.lowered ? s.forward_descriptor.dst_desc() : descriptor.diff_dst_desc();
  guarded("running the convolution backward (weights)", [&] {
    auto src = reorder_into_transient_if_needed(dnnl_memory_of(source), source_layout,
                                                TransientRole::source);
    // With a fused ReLU, backward_data (when it ran, first) left the masked gradient.
    auto diff_dst = s.config.fuse_relu && s.masked_grad_current
                        ? s.masked_grad
                        : reorder_into_transient_if_needed(dnnl_memory_of(destination_grad),
                                                           destination_grad_layout,
                                                           TransientRole::destination_grad);
    if (s.config.fuse_relu && !s.masked_grad_current)
      diff_dst = mask_relu(s, diff_dst, destination);
    s.masked_grad_current = false;
    diff_dst =
        reorder_if_needed(diff_dst, destination_grad_layout, s.backward_weights_destination_grad);
    auto* bias_grad_values = s.config.bias ? static_cast<float*>(bias_grad.data()) : nullptr;
    if (s.lowered) {
      s.lowered->backward_weights(src, diff_dst, static_cast<float*>(weights_grad.data()),
                                  bias_grad_values);
      return;
    }
    auto plain_grad = view_as(s.plain_weights, weights_grad.data());
    bool direct = plain_grad.get_desc() == descriptor.diff_weights_desc();
    if (!direct && (!s.weights_grad_scratch ||
                    s.weights_grad_scratch.get_desc() != descriptor.diff_weights_desc())) {
      s.weights_grad_scratch = memory(descriptor.diff_weights_desc(), engine());
    }
    auto diff_weights = direct ? plain_grad : s.weights_grad_scratch;
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
    if (s.config.bias) args[DNNL_ARG_DIFF_BIAS] = view_as(s.plain_bias, bias_grad.data());
    execute(s.backward_weights, args);
    if (!direct) execute_reorder(diff_weights, plain_grad);
  });
}

}  // namespace convoy::kernels

namespace convoy::kernels {

static memory mask_relu(Convolution::Impl& s, const memory& diff_dst, const Memory& destination) {
  const auto& relu = s.relu_backward_descriptor;
  auto dst = reorder_if_needed(dnnl_memory_of(destination), relu.dst_desc(), s.relu_output_scratch);
  memory scratch;
  auto diff_in = reorder_if_needed(diff_dst, relu.diff_dst_desc(), scratch);
  if (!s.masked_grad || s.masked_grad.get_desc() != relu.diff_src_desc()) {
    s.masked_grad = memory(relu.diff_src_desc(), engine());
  }
  execute(s.relu_backward,
          {{DNNL_ARG_DIFF_DST, diff_in}, {DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_SRC, s.masked_grad}});
  memory converted_scratch;
  return reorder_if_needed(s.masked_grad, s.backward_data_descriptor.diff_dst_desc(),
                           converted_scratch);
}

}  // namespace convoy::kernels
