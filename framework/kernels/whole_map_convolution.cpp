#include "framework/kernels/whole_map_convolution.hpp"

#include <algorithm>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

using dnnl::memory;
using tag = memory::format_tag;

// For each element of one sample as `layout` stores it, its plain index c * H * W + h * W + w;
// empty when the layout does not keep each sample in one dense run (padded channel blocks,
// samples interleaved).
static std::vector<int32_t> stored_order(const memory::desc& layout) {
  const dnnl_memory_desc_t& raw = layout.data;
  if (raw.ndims != 4 || raw.format_kind != dnnl_blocked || raw.offset0 != 0 ||
      raw.extra.flags != 0 || raw.data_type != dnnl_f32) {
    return {};
  }
  int64_t per_sample = 1;
  for (int i = 0; i < 4; ++i) {
    if (raw.padded_dims[i] != raw.dims[i]) return {};
    if (i > 0) per_sample *= raw.dims[i];
  }
  const auto& blocking = raw.format_desc.blocking;
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    if (blocking.inner_idxs[i] == 0) return {};
  }
  if (blocking.strides[0] != per_sample ||
      layout.get_size() != static_cast<size_t>(raw.dims[0] * per_sample) * sizeof(float) ||
      per_sample >= (int64_t{1} << 24)) {  // indices must survive the trip through float
    return {};
  }
  dnnl_memory_desc_t one_sample = raw;
  one_sample.dims[0] = one_sample.padded_dims[0] = 1;
  memory::dims plain_dims{1, raw.dims[1], raw.dims[2], raw.dims[3]};
  memory plain(memory::desc(plain_dims, memory::data_type::f32, tag::nchw), engine());
  memory stored(memory::desc(one_sample), engine());
  auto* index = static_cast<float*>(plain.get_data_handle());
  for (int64_t i = 0; i < per_sample; ++i) index[i] = static_cast<float>(i);
  execute_reorder(plain, stored);
  const auto* moved = static_cast<const float*>(stored.get_data_handle());
  return std::vector<int32_t>(moved, moved + per_sample);
}

std::unique_ptr<WholeMapConvolution> WholeMapConvolution::create(const ConvolutionConfig& config,
                                                                 const memory::desc& source,
                                                                 const memory::desc& destination) {
  const auto& c = config;
  if (c.groups != 1 || c.compute_type != DataType::f32) return nullptr;
  const Shape output = c.output_shape();
  const int64_t height = c.input[2], width = c.input[3];
  const int64_t out_height = output[2], out_width = output[3];
  const int64_t input_positions = height * width, output_positions = out_height * out_width;

  // tap(p, q) for every pair; any pair outside the window (or between dilated taps) disqualifies.
  std::vector<int32_t> tap(static_cast<size_t>(output_positions * input_positions));
  for (int64_t oh = 0; oh < out_height; ++oh)
    for (int64_t ow = 0; ow < out_width; ++ow)
      for (int64_t ih = 0; ih < height; ++ih)
        for (int64_t iw = 0; iw < width; ++iw) {
          const int64_t dh = ih - (oh * c.stride_h - c.padding_h);
          const int64_t dw = iw - (ow * c.stride_w - c.padding_w);
          if (dh % c.dilation_h != 0 || dw % c.dilation_w != 0) return nullptr;
          const int64_t kh = dh / c.dilation_h, kw = dw / c.dilation_w;
          if (dh < 0 || dw < 0 || kh >= c.kernel_h || kw >= c.kernel_w) return nullptr;
          tap[(oh * out_width + ow) * input_positions + ih * width + iw] =
              static_cast<int32_t>(kh * c.kernel_w + kw);
        }
  const int64_t channels = c.input[1], taps = c.kernel_h * c.kernel_w;
  const int64_t columns = channels * input_positions, rows = c.out_channels * output_positions;
  // The expanded matrix may not dwarf the weights (it is at most 16/9 of them on VGG's maps).
  if (rows * columns > 4 * c.out_channels * channels * taps) return nullptr;

  const auto source_order = stored_order(source);
  const auto destination_order = stored_order(destination);
  if (source_order.empty() || destination_order.empty()) return nullptr;

  std::unique_ptr<WholeMapConvolution> lowered(new WholeMapConvolution);
  auto& w = *lowered;
  w.batch_ = c.input[0];
  w.out_channels_ = c.out_channels;
  w.filter_size_ = channels * taps;
  w.output_positions_ = output_positions;
  w.columns_ = columns;
  w.rows_ = rows;
  w.filter_offset_.resize(output_positions * columns);
  for (int64_t p = 0; p < output_positions; ++p)
    for (int64_t s = 0; s < columns; ++s) {
      const int64_t channel = source_order[s] / input_positions;
      const int64_t q = source_order[s] % input_positions;
      w.filter_offset_[p * columns + s] =
          static_cast<int32_t>(channel * taps + tap[p * input_positions + q]);
    }
  w.row_of_output_.resize(rows);
  for (int64_t r = 0; r < rows; ++r) w.row_of_output_[destination_order[r]] = r;

  const auto f32 = memory::data_type::f32;
  const int64_t batch = w.batch_;
  const auto& samples = w.samples_ = memory::desc({batch, columns}, f32, tag::ab);
  const auto& results = w.results_ = memory::desc({batch, rows}, f32, tag::ab);
  const auto& results_transposed = w.results_transposed_ =
      memory::desc({rows, batch}, f32, tag::ba);
  const auto& expanded_transposed = w.expanded_transposed_ =
      memory::desc({columns, rows}, f32, tag::ba);
  memory::desc expanded({rows, columns}, f32, tag::ab);
  memory::desc bias = c.bias ? memory::desc({1, rows}, f32, tag::ab) : memory::desc();

  const bool built =
      guarded("creating the whole-map convolution for input " + to_string(c.input), [&] {
        const auto attributes = relu_post_op_if(c.fuse_relu);
        // forward y = x E^T (+ bias), backward data dx = dy E, backward weights dE = dy^T x
        dnnl::matmul::primitive_desc forward(
            dnnl::matmul::desc(samples, expanded_transposed, bias, results), attributes, engine());
        dnnl::matmul::primitive_desc backward_data(dnnl::matmul::desc(results, expanded, samples),
                                                   engine());
        dnnl::matmul::primitive_desc backward_weights(
            dnnl::matmul::desc(results_transposed, samples, expanded), engine());
        if (is_reference(forward) || is_reference(backward_data) ||
            is_reference(backward_weights)) {
          return false;
        }
        w.forward_ = dnnl::matmul(forward);
        w.backward_data_ = dnnl::matmul(backward_data);
        w.backward_weights_ = dnnl::matmul(backward_weights);
        w.implementation_ = std::string("whole-map matmul (") + forward.impl_info_str() + ")";
        // One buffer holds the expanded weights, then their gradient: forward and backward-data
        // rebuild it from the OIHW weights before reading it.
        w.expanded_ = memory(expanded, engine());
        if (c.bias) w.expanded_bias_ = memory(bias, engine());
        return true;
      });
  if (!built) return nullptr;
  return lowered;
}

std::string WholeMapConvolution::implementation() const { return implementation_; }

void WholeMapConvolution::expand_weights(const float* weights) {
  const OwnLoopTimer timer;
  auto* expanded = static_cast<float*>(expanded_.get_data_handle());
  const int64_t P = output_positions_;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < out_channels_; ++o) {
    const float* filter = weights + o * filter_size_;  // (C, KH, KW)
    for (int64_t p = 0; p < P; ++p) {
      float* row = expanded + row_of_output_[o * P + p] * columns_;
      const int32_t* offset = filter_offset_.data() + p * columns_;
      for (int64_t s = 0; s < columns_; ++s) row[s] = filter[offset[s]];
    }
  }
}

void WholeMapConvolution::forward(const memory& source, const float* weights, const float* bias,
                                  const memory& destination) {
  expand_weights(weights);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, view_as(samples_, source)},
                                       {DNNL_ARG_WEIGHTS, view_as(expanded_transposed_, expanded_)},
                                       {DNNL_ARG_DST, view_as(results_, destination)}};
  if (bias != nullptr) {
    auto* expanded_bias = static_cast<float*>(expanded_bias_.get_data_handle());
    for (int64_t o = 0; o < out_channels_; ++o)
      for (int64_t p = 0; p < output_positions_; ++p)
        expanded_bias[row_of_output_[o * output_positions_ + p]] = bias[o];
    args[DNNL_ARG_BIAS] = expanded_bias_;
  }
  execute(forward_, args);
}

void WholeMapConvolution::backward_data(const memory& destination_grad, const float* weights,
                                        const memory& source_grad) {
  expand_weights(weights);
  execute(backward_data_, {{DNNL_ARG_SRC, view_as(results_, destination_grad)},
                           {DNNL_ARG_WEIGHTS, expanded_},
                           {DNNL_ARG_DST, view_as(samples_, source_grad)}});
}

void WholeMapConvolution::backward_weights(const memory& source, const memory& destination_grad,
                                           float* weights_grad, float* bias_grad) {
  execute(backward_weights_, {{DNNL_ARG_SRC, view_as(results_transposed_, destination_grad)},
                              {DNNL_ARG_WEIGHTS, view_as(samples_, source)},
                              {DNNL_ARG_DST, expanded_}});
  const OwnLoopTimer timer;  // the rest of this pass
  // Fold: each tap's gradient is the sum over the (p, q) pairs it joins, in a fixed order.
  const auto* expanded_grad = static_cast<const float*>(expanded_.get_data_handle());
  const int64_t P = output_positions_;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < out_channels_; ++o) {
    float* filter = weights_grad + o * filter_size_;  // (C, KH, KW)
    std::fill_n(filter, filter_size_, 0.0f);
    for (int64_t p = 0; p < P; ++p) {
      const float* row = expanded_grad + row_of_output_[o * P + p] * columns_;
      const int32_t* offset = filter_offset_.data() + p * columns_;
      for (int64_t s = 0; s < columns_; ++s) filter[offset[s]] += row[s];
    }
  }
  if (bias_grad != nullptr) {
    const auto* grad = static_cast<const float*>(destination_grad.get_data_handle());
    for (int64_t o = 0; o < out_channels_; ++o) {
      float sum = 0.0f;
      for (int64_t n = 0; n < batch_; ++n)
        for (int64_t p = 0; p < P; ++p) sum += grad[n * rows_ + row_of_output_[o * P + p]];
      bias_grad[o] = sum;
    }
  }
}

}  // namespace convoy::kernels
