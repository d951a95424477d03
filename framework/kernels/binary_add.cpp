#include "framework/kernels/binary_add.hpp"

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_destination.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

struct BinaryAdd::Impl {
  BinaryAddConfig config;
  dnnl::binary::primitive_desc descriptor;
  dnnl::binary primitive;
  dnnl::memory destination_scratch;
};

BinaryAdd::BinaryAdd(const BinaryAddConfig& config) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.config = config;
  const auto& desc = desc_of(config.first);
  guarded("creating the residual addition for " + config.first.describe(), [&] {
    const auto attributes = relu_post_op_if(config.fuse_relu);
    s.descriptor = dnnl::binary::primitive_desc(
        dnnl::binary::desc(dnnl::algorithm::binary_add, desc, desc, desc), attributes, engine());
    s.primitive = dnnl::binary(s.descriptor);
  });
}

BinaryAdd::~BinaryAdd() = default;
BinaryAdd::BinaryAdd(BinaryAdd&&) noexcept = default;
BinaryAdd& BinaryAdd::operator=(BinaryAdd&&) noexcept = default;

const BinaryAddConfig& BinaryAdd::config() const { return impl_->config; }

void BinaryAdd::forward(const Memory& first, const Memory& second, const Memory& destination) {
  auto& s = *impl_;
  guarded("running the residual addition", [&] {
    dnnl::memory unused;
    auto a = reorder_if_needed(dnnl_memory_of(first), s.descriptor.src_desc(0), unused);
    // A shortcut in another layout than the main branch (blocked beside an NHWC Winograd
    // branch) is converted in the shared buffer, not a per-layer one.
    auto b = reorder_into_transient_if_needed(dnnl_memory_of(second), s.descriptor.src_desc(1),
                                              TransientRole::source);
    auto dst = destination_for(dnnl_memory_of(destination), s.descriptor.dst_desc(),
                               s.destination_scratch);
    execute(s.primitive, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
    copy_back_if_needed(dst, dnnl_memory_of(destination));
  });
}

}  // namespace convoy::kernels
