#include "framework/kernels/inner_product.hpp"

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_destination.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

// Same discipline as the convolution: format_tag::any everywhere, forward descriptor as the
// hint for both backward ones, plain master weights reordered into the primitive's layout.
// compute_type bf16: bf16 source, weights and output gradient in; f32 out (see convolution.cpp).

using dnnl::memory;

struct InnerProduct::Impl {
  InnerProductConfig config;
  memory::desc plain_weights, plain_bias;
  dnnl::inner_product_forward::primitive_desc forward_descriptor;
  dnnl::inner_product_backward_data::primitive_desc backward_data_descriptor;
  dnnl::inner_product_backward_weights::primitive_desc backward_weights_descriptor;
  dnnl::inner_product_forward forward;
  dnnl::inner_product_backward_data backward_data;
  dnnl::inner_product_backward_weights backward_weights;
  memory source_scratch, weights_scratch, backward_weights_scratch, destination_scratch,
      grad_scratch, source_grad_scratch, weights_grad_scratch, backward_source_scratch,
      weights_grad_input_scratch;
};

InnerProduct::InnerProduct(const InnerProductConfig& c) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.config = c;
  const auto f32 = memory::data_type::f32;
  s.plain_weights = memory::desc({c.out_features, c.in_features}, f32, memory::format_tag::ab);
  s.plain_bias = memory::desc({c.out_features}, f32, memory::format_tag::a);
  const auto type = to_dnnl(c.compute_type);
  memory::desc source_any({c.batch, c.in_features}, type, memory::format_tag::any);
  memory::desc source_grad_any({c.batch, c.in_features}, f32, memory::format_tag::any);
  memory::desc weights_any({c.out_features, c.in_features}, type, memory::format_tag::any);
  memory::desc weights_grad_any({c.out_features, c.in_features}, f32, memory::format_tag::any);
  memory::desc bias_any =
      c.bias ? memory::desc({c.out_features}, f32, memory::format_tag::any) : memory::desc();
  memory::desc destination_any({c.batch, c.out_features}, f32, memory::format_tag::any);
  memory::desc destination_grad_any({c.batch, c.out_features}, type, memory::format_tag::any);
  guarded(
      "creating the inner product " + std::to_string(c.in_features) + " -> " +
          std::to_string(c.out_features),
      [&] {
        s.forward_descriptor = dnnl::inner_product_forward::primitive_desc(
            dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_training, source_any,
                                              weights_any, bias_any, destination_any),
            engine());
        s.backward_data_descriptor = dnnl::inner_product_backward_data::primitive_desc(
            dnnl::inner_product_backward_data::desc(source_grad_any, weights_any,
                                                    destination_grad_any),
            engine(), s.forward_descriptor);
        s.backward_weights_descriptor = dnnl::inner_product_backward_weights::primitive_desc(
            dnnl::inner_product_backward_weights::desc(
                s.forward_descriptor.src_desc(), weights_grad_any, bias_any, destination_grad_any),
            engine(), s.forward_descriptor);
        s.forward = dnnl::inner_product_forward(s.forward_descriptor);
        s.backward_data = dnnl::inner_product_backward_data(s.backward_data_descriptor);
        s.backward_weights = dnnl::inner_product_backward_weights(s.backward_weights_descriptor);
      });
}

InnerProduct::~InnerProduct() = default;
InnerProduct::InnerProduct(InnerProduct&&) noexcept = default;
InnerProduct& InnerProduct::operator=(InnerProduct&&) noexcept = default;

std::string InnerProduct::implementation() const {
  return joined_implementations({impl_->forward_descriptor.impl_info_str(),
                                 impl_->backward_data_descriptor.impl_info_str(),
                                 impl_->backward_weights_descriptor.impl_info_str()});
}

Layout InnerProduct::destination_layout() const {
  return to_layout(impl_->forward_descriptor.dst_desc());
}
Layout InnerProduct::source_layout() const {
  // The layer's input gradient is written in this layout: f32 whatever the compute type.
  if (impl_->config.compute_type == DataType::f32) {
    return to_layout(impl_->forward_descriptor.src_desc());
  }
  return to_layout(impl_->backward_data_descriptor.diff_src_desc());
}

void InnerProduct::forward(const Memory& source, const Memory& weights, const Memory& bias,
                           const Memory& destination) {
  auto& s = *impl_;
  const auto& d = s.forward_descriptor;
  guarded("running the inner product forward", [&] {
    auto src = reorder_if_needed(dnnl_memory_of(source), d.src_desc(), s.source_scratch);
    auto w = reorder_if_needed(view_as(s.plain_weights, weights.data()), d.weights_desc(),
                               s.weights_scratch);
    auto dst = destination_for(dnnl_memory_of(destination), d.dst_desc(), s.destination_scratch);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
    if (s.config.bias) args[DNNL_ARG_BIAS] = view_as(s.plain_bias, bias.data());
    execute(s.forward, args);
    copy_back_if_needed(dst, dnnl_memory_of(destination));
  });
}

void InnerProduct::backward_data(const Memory& destination_grad, const Memory& weights,
                                 const Memory& source_grad) {
  auto& s = *impl_;
  const auto& d = s.backward_data_descriptor;
  guarded("running the inner product backward (data)", [&] {
    auto diff_dst =
        reorder_if_needed(dnnl_memory_of(destination_grad), d.diff_dst_desc(), s.grad_scratch);
    auto w = reorder_if_needed(view_as(s.plain_weights, weights.data()), d.weights_desc(),
                               s.backward_weights_scratch);
    auto diff_src =
        destination_for(dnnl_memory_of(source_grad), d.diff_src_desc(), s.source_grad_scratch);
    execute(s.backward_data,
            {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diff_src}});
    copy_back_if_needed(diff_src, dnnl_memory_of(source_grad));
  });
}

void InnerProduct::backward_weights(const Memory& source, const Memory& destination_grad,
                                    const Memory& weights_grad, const Memory& bias_grad) {
  auto& s = *impl_;
  const auto& d = s.backward_weights_descriptor;
  guarded("running the inner product backward (weights)", [&] {
    auto src = reorder_if_needed(dnnl_memory_of(source), d.src_desc(), s.backward_source_scratch);
    auto diff_dst =
        reorder_if_needed(dnnl_memory_of(destination_grad), d.diff_dst_desc(), s.grad_scratch);
    auto plain_grad = view_as(s.plain_weights, weights_grad.data());
    auto diff_weights = destination_for(plain_grad, d.diff_weights_desc(), s.weights_grad_scratch);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
    if (s.config.bias) args[DNNL_ARG_DIFF_BIAS] = view_as(s.plain_bias, bias_grad.data());
    execute(s.backward_weights, args);
    copy_back_if_needed(diff_weights, plain_grad);
  });
}

}  // namespace convoy::kernels
