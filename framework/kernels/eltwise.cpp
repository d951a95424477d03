#include "framework/kernels/eltwise.hpp"

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_destination.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

// Why: the *_use_dst_for_bwd variants of relu, tanh, elu and logistic compute the derivative
// from the output, so the layer keeps only its output (which the next layer reads anyway)
// and the input buffer can be reused: half the activation memory of these layers.

using dnnl::algorithm;

static bool uses_output(EltwiseAlgorithm a, float alpha) {
  // elu_use_dst_for_bwd needs alpha >= 0 (oneDNN's restriction).
  return a == EltwiseAlgorithm::relu || a == EltwiseAlgorithm::tanh ||
         a == EltwiseAlgorithm::logistic || (a == EltwiseAlgorithm::elu && alpha >= 0);
}

static algorithm to_dnnl(EltwiseAlgorithm a, bool use_output) {
  switch (a) {
    case EltwiseAlgorithm::relu:
      return use_output ? algorithm::eltwise_relu_use_dst_for_bwd : algorithm::eltwise_relu;
    case EltwiseAlgorithm::elu:
      return use_output ? algorithm::eltwise_elu_use_dst_for_bwd : algorithm::eltwise_elu;
    case EltwiseAlgorithm::tanh:
      return use_output ? algorithm::eltwise_tanh_use_dst_for_bwd : algorithm::eltwise_tanh;
    case EltwiseAlgorithm::logistic:
      return use_output ? algorithm::eltwise_logistic_use_dst_for_bwd : algorithm::eltwise_logistic;
    case EltwiseAlgorithm::gelu_erf:
      return algorithm::eltwise_gelu_erf;
    case EltwiseAlgorithm::swish:
      return algorithm::eltwise_swish;
    case EltwiseAlgorithm::hardswish:
      return algorithm::eltwise_hardswish;
    case EltwiseAlgorithm::abs:
      return algorithm::eltwise_abs;
    case EltwiseAlgorithm::square:
      return algorithm::eltwise_square;
    case EltwiseAlgorithm::clip:
      return algorithm::eltwise_clip_v2;
  }
  throw Error("unknown eltwise algorithm");
}

struct Eltwise::Impl {
  EltwiseConfig config;
  bool use_output = false;
  dnnl::eltwise_forward::primitive_desc forward_descriptor;
  dnnl::eltwise_backward::primitive_desc backward_descriptor;
  dnnl::eltwise_forward forward;
  dnnl::eltwise_backward backward;
  dnnl::memory source_scratch, destination_scratch, grad_scratch, saved_scratch,
      source_grad_scratch;
};

Eltwise::Eltwise(const EltwiseConfig& config) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.config = config;
  s.use_output = uses_output(config.algorithm, config.alpha);
  const auto kind = to_dnnl(config.algorithm, s.use_output);
  const auto& desc = desc_of(config.source);
  guarded("creating the element-wise operation for " + config.source.describe(), [&] {
    s.forward_descriptor = dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, kind, desc, config.alpha,
                                    config.beta),
        engine());
    s.backward_descriptor = dnnl::eltwise_backward::primitive_desc(
        dnnl::eltwise_backward::desc(kind, desc, desc, config.alpha, config.beta), engine(),
        s.forward_descriptor);
    s.forward = dnnl::eltwise_forward(s.forward_descriptor);
    s.backward = dnnl::eltwise_backward(s.backward_descriptor);
  });
}

Eltwise::~Eltwise() = default;
Eltwise::Eltwise(Eltwise&&) noexcept = default;
Eltwise& Eltwise::operator=(Eltwise&&) noexcept = default;

const EltwiseConfig& Eltwise::config() const { return impl_->config; }
bool Eltwise::backward_uses_output() const { return impl_->use_output; }

void Eltwise::forward(const Memory& source, const Memory& destination) {
  auto& s = *impl_;
  guarded("running the element-wise forward", [&] {
    execute_source_to_destination(s.forward, s.forward_descriptor.src_desc(),
                                  s.forward_descriptor.dst_desc(), source, destination,
                                  s.source_scratch, s.destination_scratch, dnnl::memory());
  });
}

void Eltwise::backward(const Memory& destination_grad, const Memory& saved,
                       const Memory& source_grad) {
  auto& s = *impl_;
  guarded("running the element-wise backward", [&] {
    const auto& descriptor = s.backward_descriptor;
    auto diff_dst = reorder_if_needed(dnnl_memory_of(destination_grad), descriptor.diff_dst_desc(),
                                      s.grad_scratch);
    const int saved_argument = s.use_output ? DNNL_ARG_DST : DNNL_ARG_SRC;
    auto saved_memory = reorder_if_needed(
        dnnl_memory_of(saved),
        s.use_output ? s.forward_descriptor.dst_desc() : descriptor.src_desc(), s.saved_scratch);
    auto diff_src = destination_for(dnnl_memory_of(source_grad), descriptor.diff_src_desc(),
                                    s.source_grad_scratch);
    execute(s.backward, {{DNNL_ARG_DIFF_DST, diff_dst},
                         {saved_argument, saved_memory},
                         {DNNL_ARG_DIFF_SRC, diff_src}});
    copy_back_if_needed(diff_src, dnnl_memory_of(source_grad));
  });
}

}  // namespace convoy::kernels
