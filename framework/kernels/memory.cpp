#include "framework/kernels/memory.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include "framework/common/error.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"

namespace convoy::kernels {

using tag = dnnl::memory::format_tag;

dnnl::memory::data_type to_dnnl(DataType type) {
  return type == DataType::bf16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

dnnl::memory::dims to_dnnl_dims(const Shape& shape) {
  return dnnl::memory::dims(shape.begin(), shape.end());
}

static tag plain_tag(size_t rank) {
  switch (rank) {
    case 1:
      return tag::a;
    case 2:
      return tag::ab;
    case 3:
      return tag::abc;
    case 4:
      return tag::abcd;
    case 5:
      return tag::abcde;
    default:
      throw ShapeError("tensors of rank " + std::to_string(rank) + " are not supported");
  }
}

Layout::Layout() : impl_(std::make_shared<const Impl>()) {}
Layout::Layout(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

static void check_positive(const Shape& dims) {
  for (auto dim : dims) {
    if (dim <= 0) throw ShapeError("tensor dims must be positive, got " + to_string(dims));
  }
}

Layout Layout::plain(const Shape& dims, DataType type) {
  check_positive(dims);
  return to_layout(dnnl::memory::desc(to_dnnl_dims(dims), to_dnnl(type), plain_tag(dims.size())));
}

Layout Layout::nhwc(const Shape& dims, DataType type) {
  if (dims.size() != 4) throw ShapeError("an NHWC layout needs 4-D dims, got " + to_string(dims));
  check_positive(dims);
  return to_layout(dnnl::memory::desc(to_dnnl_dims(dims), to_dnnl(type), tag::nhwc));
}

Shape Layout::dims() const {
  auto dims = impl_->desc.dims();
  return Shape(dims.begin(), dims.end());
}

DataType Layout::data_type() const {
  return impl_->desc.data_type() == dnnl::memory::data_type::bf16 ? DataType::bf16 : DataType::f32;
}

size_t Layout::bytes() const { return impl_->desc.get_size(); }
bool Layout::empty() const { return impl_->desc.is_zero(); }

bool Layout::is_plain() const {
  if (empty()) return false;
  auto dims = impl_->desc.dims();
  return impl_->desc == dnnl::memory::desc(dims, impl_->desc.data_type(), plain_tag(dims.size()));
}

bool Layout::is_nhwc() const {
  if (empty()) return false;
  auto dims = impl_->desc.dims();
  return dims.size() == 4 &&
         impl_->desc == dnnl::memory::desc(dims, impl_->desc.data_type(), tag::nhwc);
}

Layout Layout::with_data_type(DataType type) const {
  dnnl_memory_desc_t raw = impl_->desc.data;
  raw.data_type = static_cast<dnnl_data_type_t>(to_dnnl(type));
  // Strides of a blocked format are in elements, so they stay valid for another element size.
  return to_layout(dnnl::memory::desc(raw));
}

std::string Layout::describe() const {
  if (empty()) return "empty";
  std::string text(data_type() == DataType::bf16 ? "bf16" : "f32");
  text += ' ';
  text += to_string(dims());
  if (is_plain()) return text + " plain";
  if (is_nhwc()) return text + " nhwc";
  const auto& blocking = impl_->desc.data.format_desc.blocking;
  text += " blocked";
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    text += ' ';
    text += std::to_string(blocking.inner_blks[i]);
    text += "@dim";
    text += std::to_string(blocking.inner_idxs[i]);
  }
  return text;
}

bool Layout::operator==(const Layout& other) const { return impl_->desc == other.impl_->desc; }

Memory::Memory() = default;

Memory::Memory(const Layout& layout) : layout_(layout) {
  impl_ = std::make_shared<Impl>(Impl{dnnl::memory(desc_of(layout), engine()), nullptr});
  std::memset(impl_->memory.get_data_handle(), 0, layout.bytes());
}

Memory::Memory(const Layout& layout, void* external_buffer) : layout_(layout) {
  impl_ = std::make_shared<Impl>(
      Impl{dnnl::memory(desc_of(layout), engine(), external_buffer), nullptr});
}

void* Memory::data() const { return impl_ ? impl_->memory.get_data_handle() : nullptr; }

Memory Memory::view(const Layout& layout) const {
  if (empty() || layout.bytes() > layout_.bytes()) {
    throw ShapeError("cannot view " + layout_.describe() + " as " + layout.describe() +
                     ": the buffer is too small");
  }
  Memory result;
  result.layout_ = layout;
  result.impl_ =
      std::make_shared<Impl>(Impl{dnnl::memory(desc_of(layout), engine(), data()), impl_});
  return result;
}

void reorder(const Memory& source, const Memory& destination) {
  if (source.layout().dims() != destination.layout().dims()) {
    throw ShapeError("reorder between different dims: " + source.layout().describe() + " -> " +
                     destination.layout().describe());
  }
  guarded("reordering " + source.layout().describe() + " to " + destination.layout().describe(),
          [&] {
            auto src = dnnl_memory_of(source);
            auto dst = dnnl_memory_of(destination);
            execute_reorder(src, dst);
          });
}

void accumulate(const Memory& source, const Memory& destination) {
  if (source.layout().dims() != destination.layout().dims()) {
    throw ShapeError("cannot add " + source.layout().describe() + " into " +
                     destination.layout().describe());
  }
  guarded("accumulating gradients", [&] {
    // A reorder with a sum post-op computes destination = 1*destination + source in one pass and
    // handles any pair of layouts.
    dnnl::post_ops post_ops;
    post_ops.append_sum(1.0f);
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(post_ops);
    auto src = dnnl_memory_of(source);
    auto dst = dnnl_memory_of(destination);
    dnnl::reorder::primitive_desc descriptor(engine(), src.get_desc(), engine(), dst.get_desc(),
                                             attributes);
    dnnl::reorder accumulate(descriptor);
    execute(accumulate, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}, PrimitiveKind::reorder);
  });
}

dnnl::memory reorder_if_needed(dnnl::memory memory, const dnnl::memory::desc& wanted,
                               dnnl::memory& scratch) {
  if (memory.get_desc() == wanted) return memory;
  if (!scratch || scratch.get_desc() != wanted) scratch = dnnl::memory(wanted, engine());
  execute_reorder(memory, scratch);
  return scratch;
}

void* transient_buffer(TransientRole role, size_t bytes) {
  // Kernels run on the training thread only (the data loader's threads never call oneDNN).
  struct AlignedFree {
    void operator()(void* pointer) const { std::free(pointer); }
  };
  struct Buffer {
    std::unique_ptr<void, AlignedFree> data;
    size_t bytes = 0;
  };
  static Buffer buffers[static_cast<int>(TransientRole::count)];
  Buffer& buffer = buffers[static_cast<int>(role)];
  if (buffer.bytes < bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;  // aligned_alloc wants a multiple
    buffer.data.reset();                            // free first: the peak holds one copy
    buffer.data.reset(std::aligned_alloc(64, rounded));
    if (!buffer.data) {
      buffer.bytes = 0;
      throw std::bad_alloc();
    }
    buffer.bytes = rounded;
  }
  return buffer.data.get();
}

dnnl::memory reorder_into_transient_if_needed(dnnl::memory memory, const dnnl::memory::desc& wanted,
                                              TransientRole role) {
  if (memory.get_desc() == wanted) return memory;
  dnnl::memory converted(wanted, engine(), transient_buffer(role, wanted.get_size()));
  execute_reorder(memory, converted);
  return converted;
}

dnnl::memory target_in_layout(const dnnl::memory& destination, const dnnl::memory::desc& wanted,
                              TransientRole role) {
  if (destination.get_desc() == wanted) return destination;
  return dnnl::memory(wanted, engine(), transient_buffer(role, wanted.get_size()));
}

void deliver(const dnnl::memory& result, const dnnl::memory& destination) {
  if (result.get_data_handle() == destination.get_data_handle()) return;
  auto source = result, target = destination;  // handles: the buffers are shared, not copied
  execute_reorder(source, target);
}

}  // namespace convoy::kernels
