#include "framework/kernels/adaptive_average_pooling.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "framework/common/error.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "framework/kernels/pooling.hpp"

namespace convoy::kernels {

// Why two paths:
// 1. Uniform bins (ResNet's global pool, VGG's 7x7 of a 7x7 map at 224 px) are an oneDNN average
//    pooling, which works on blocked layouts and is vectorized.
// 2. Any other size (VGG on CIFAR-sized maps: 7x7 from 1x1 or 2x2) has bins of varying size that
//    may overlap, which no oneDNN primitive expresses; a plain loop does, on a plain copy of the
//    input. Those maps are small, so the loop's cost does not matter.

namespace {

int64_t bin_start(int64_t index, int64_t input_size, int64_t output_size) {
  return (index * input_size) / output_size;  // floor
}
int64_t bin_end(int64_t index, int64_t input_size, int64_t output_size) {
  return ((index + 1) * input_size + output_size - 1) / output_size;  // ceil
}

// Calls visit(cell, for_each_input, count) for each output cell of one H x W plane pooled to
// OH x OW: its bin holds `count` input cells, which for_each_input(use) hands to use(offset) one
// by one. Forward sums a bin, backward spreads a gradient over it: they walk the bins alike.
template <class Visit>
void for_each_bin(int64_t H, int64_t W, int64_t OH, int64_t OW, Visit&& visit) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t h0 = bin_start(oh, H, OH), h1 = bin_end(oh, H, OH);
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t w0 = bin_start(ow, W, OW), w1 = bin_end(ow, W, OW);
      auto for_each_input = [&](auto&& use) {
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) use(h * W + w);
      };
      visit(oh * OW + ow, for_each_input, static_cast<float>((h1 - h0) * (w1 - w0)));
    }
  }
}

// The plain f32 contents of `memory`: the buffer itself when it is plain, else a copy in scratch.
const float* plain_values(const Memory& memory, std::vector<float>& scratch) {
  const Layout& layout = memory.layout();
  if (layout.is_plain() && layout.data_type() == DataType::f32) {
    return static_cast<const float*>(memory.data());
  }
  scratch.resize(static_cast<size_t>(element_count(layout.dims())));
  reorder(memory, Memory(Layout::plain(layout.dims()), scratch.data()));
  return scratch.data();
}

// Where to write plain f32 results for `memory`: itself when plain, else scratch (then
// copy_plain_back converts).
float* plain_target(const Memory& memory, std::vector<float>& scratch) {
  const Layout& layout = memory.layout();
  if (layout.is_plain() && layout.data_type() == DataType::f32) {
    return static_cast<float*>(memory.data());
  }
  scratch.resize(static_cast<size_t>(element_count(layout.dims())));
  return scratch.data();
}

void copy_plain_back(float* written, const Memory& memory) {
  if (written == memory.data()) return;
  reorder(Memory(Layout::plain(memory.layout().dims()), written), memory);
}

}  // namespace

bool AdaptiveAveragePoolingConfig::bins_are_uniform() const {
  return input.at(2) % output_h == 0 && input.at(3) % output_w == 0;
}

struct AdaptiveAveragePooling::Impl {
  AdaptiveAveragePoolingConfig config;
  std::optional<Pooling> pooling;                    // set when bins are uniform
  std::vector<float> input_scratch, output_scratch;  // plain copies for the loop path
};

AdaptiveAveragePooling::AdaptiveAveragePooling(const AdaptiveAveragePoolingConfig& config)
    : impl_(std::make_unique<Impl>()) {
  auto& c = impl_->config = config;
  if (c.input.size() != 4) {
    throw ShapeError("AdaptiveAveragePooling expects an (N, C, H, W) input, got " +
                     to_string(c.input));
  }
  if (c.output_h < 1 || c.output_w < 1) {
    throw ShapeError("AdaptiveAveragePooling output size must be positive, got " +
                     std::to_string(c.output_h) + "x" + std::to_string(c.output_w));
  }
  if (c.source_layout.empty()) c.source_layout = Layout::plain(c.input);
  if (c.bins_are_uniform()) {
    PoolingConfig pooling;
    pooling.input = c.input;
    pooling.source_layout = c.source_layout;
    pooling.algorithm = PoolingAlgorithm::average_exclude_padding;
    pooling.kernel_h = pooling.stride_h = c.input[2] / c.output_h;
    pooling.kernel_w = pooling.stride_w = c.input[3] / c.output_w;
    impl_->pooling.emplace(pooling);
  }
}

AdaptiveAveragePooling::~AdaptiveAveragePooling() = default;
AdaptiveAveragePooling::AdaptiveAveragePooling(AdaptiveAveragePooling&&) noexcept = default;
AdaptiveAveragePooling& AdaptiveAveragePooling::operator=(AdaptiveAveragePooling&&) noexcept =
    default;

const AdaptiveAveragePoolingConfig& AdaptiveAveragePooling::config() const { return impl_->config; }

Layout AdaptiveAveragePooling::destination_layout() const {
  if (impl_->pooling) return impl_->pooling->destination_layout();
  return Layout::plain(impl_->config.output_shape());
}

Layout AdaptiveAveragePooling::source_layout() const {
  if (impl_->pooling) return impl_->pooling->source_layout();
  return Layout::plain(impl_->config.input);
}

void AdaptiveAveragePooling::forward(const Memory& source, const Memory& destination) {
  auto& s = *impl_;
  if (s.pooling) return s.pooling->forward(source, destination);
  const auto& c = s.config;
  const int64_t planes = c.input[0] * c.input[1], H = c.input[2], W = c.input[3];
  const int64_t OH = c.output_h, OW = c.output_w;
  const float* input = plain_values(source, s.input_scratch);
  float* output = plain_target(destination, s.output_scratch);
  {
    const OwnLoopTimer timer;
#pragma omp parallel for
    for (int64_t plane = 0; plane < planes; ++plane) {
      const float* in = input + plane * H * W;
      float* out = output + plane * OH * OW;
      for_each_bin(H, W, OH, OW, [&](int64_t cell, auto&& for_each_input, float count) {
        float sum = 0.0f;
        for_each_input([&](int64_t offset) { sum += in[offset]; });
        out[cell] = sum / count;
      });
    }
  }
  copy_plain_back(output, destination);
}

void AdaptiveAveragePooling::backward(const Memory& destination_grad, const Memory& source_grad) {
  auto& s = *impl_;
  if (s.pooling) return s.pooling->backward(destination_grad, source_grad);
  const auto& c = s.config;
  const int64_t planes = c.input[0] * c.input[1], H = c.input[2], W = c.input[3];
  const int64_t OH = c.output_h, OW = c.output_w;
  // Scratch roles swap: output_scratch holds the incoming gradient, input_scratch the result.
  const float* output_grad = plain_values(destination_grad, s.output_scratch);
  float* input_grad = plain_target(source_grad, s.input_scratch);
  {
    const OwnLoopTimer timer;
#pragma omp parallel for
    for (int64_t plane = 0; plane < planes; ++plane) {
      const float* grad_out = output_grad + plane * OH * OW;
      float* grad_in = input_grad + plane * H * W;
      std::fill(grad_in, grad_in + H * W, 0.0f);
      // Each output cell spreads its gradient evenly over its bin; overlapping bins add up.
      for_each_bin(H, W, OH, OW, [&](int64_t cell, auto&& for_each_input, float count) {
        const float share = grad_out[cell] / count;
        for_each_input([&](int64_t offset) { grad_in[offset] += share; });
      });
    }
  }
  copy_plain_back(input_grad, source_grad);
}

}  // namespace convoy::kernels
