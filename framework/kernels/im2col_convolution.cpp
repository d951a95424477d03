#include "framework/kernels/im2col_convolution.hpp"

#include <algorithm>
#include <cstring>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

using dnnl::memory;
using tag = memory::format_tag;

// The measured region (Zen 3, 2 threads, oneDNN 2.6 jit:avx2 against gemm:jit, forward +
// backward-data + backward-weights): 512 channels on 4x4 at batch 128 1.33x faster, 256 -> 512
// on 8x8 -> 4x4 (stride 2) 1.59x, 512 channels on 7x7 at batch 32 1.33x; break-even at 256
// channels on 8x8, slower at 128 channels on 16x16 (0.86x) and at 64 channels on 7x7 (0.9x).
// AVX-512 machines were not measured, so their convolutions keep the primitives.
static constexpr int64_t kMaxOutputPositions = 49;  // 7x7
static constexpr int64_t kMinFilterSize = 2304;     // 256 channels under a 3x3 kernel
static constexpr size_t kMaxColumnBytes = size_t{512} << 20;

bool Im2colConvolution::preferred(const ConvolutionConfig& config, const std::string& primitive) {
  const Shape output = config.output_shape();
  const int64_t filter_size = config.input[1] / config.groups * config.kernel_h * config.kernel_w;
  return primitive == "jit:avx2" && config.kernel_h * config.kernel_w > 1 &&
         output[2] * output[3] <= kMaxOutputPositions && filter_size >= kMinFilterSize;
}

std::unique_ptr<Im2colConvolution> Im2colConvolution::create(const ConvolutionConfig& config) {
  const auto& c = config;
  if (c.groups != 1 || c.compute_type != DataType::f32) return nullptr;
  const Shape output = c.output_shape();
  const int64_t batch = c.input[0], channels = c.input[1];
  const int64_t rows = batch * output[2] * output[3];
  const int64_t filter_size = channels * c.kernel_h * c.kernel_w;
  if (static_cast<size_t>(rows * filter_size) * sizeof(float) > kMaxColumnBytes) {
    return nullptr;
  }
  std::unique_ptr<Im2colConvolution> created(new Im2colConvolution);
  auto& lowered = *created;
  lowered.config_ = c;
  lowered.rows_ = rows;
  lowered.filter_size_ = filter_size;
  const auto f32 = memory::data_type::f32;
  const memory::dims weight_dims{c.out_channels, channels, c.kernel_h, c.kernel_w};
  lowered.source_rows_ = memory::desc(to_dnnl_dims(c.input), f32, tag::nhwc);
  lowered.destination_rows_ = memory::desc(to_dnnl_dims(output), f32, tag::nhwc);
  lowered.plain_weights_ = memory::desc(weight_dims, f32, tag::oihw);
  lowered.weights_by_tap_ = memory::desc(weight_dims, f32, tag::hwio);

  const auto& columns = lowered.columns_ = memory::desc({rows, filter_size}, f32, tag::ab);
  const auto& columns_transposed = lowered.columns_transposed_ =
      memory::desc({filter_size, rows}, f32, tag::ba);
  memory::desc weights({filter_size, c.out_channels}, f32, tag::ab);
  const auto& weights_transposed = lowered.weights_transposed_ =
      memory::desc({c.out_channels, filter_size}, f32, tag::ba);
  const auto& results = lowered.results_ = memory::desc({rows, c.out_channels}, f32, tag::ab);
  const auto& bias = lowered.bias_ =
      c.bias ? memory::desc({1, c.out_channels}, f32, tag::ab) : memory::desc();
  const bool built =
      guarded("creating the im2col convolution for input " + to_string(c.input), [&] {
        dnnl::matmul::primitive_desc forward(dnnl::matmul::desc(columns, weights, bias, results),
                                             relu_post_op_if(c.fuse_relu), engine());
        dnnl::matmul::primitive_desc backward_data(
            dnnl::matmul::desc(results, weights_transposed, columns), engine());
        dnnl::matmul::primitive_desc backward_weights(
            dnnl::matmul::desc(columns_transposed, results, weights), engine());
        if (is_reference(forward) || is_reference(backward_data) ||
            is_reference(backward_weights)) {
          return false;
        }
        lowered.forward_ = dnnl::matmul(forward);
        lowered.backward_data_ = dnnl::matmul(backward_data);
        lowered.backward_weights_ = dnnl::matmul(backward_weights);
        lowered.implementation_ = std::string("im2col matmul (") + forward.impl_info_str() + ")";
        lowered.weights_matrix_ = memory(weights, engine());
        return true;
      });
  if (!built) return nullptr;
  return created;
}

std::string Im2colConvolution::implementation() const { return implementation_; }

void Im2colConvolution::unroll(const float* source, float* columns) const {
  const OwnLoopTimer timer;
  const auto& c = config_;
  const Shape output = c.output_shape();
  const int64_t height = c.input[2], width = c.input[3], channels = c.input[1];
  const int64_t out_height = output[2], out_width = output[3];
  const size_t run = static_cast<size_t>(channels) * sizeof(float);
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows_; ++row) {
    const int64_t n = row / (out_height * out_width);
    const int64_t oh = row / out_width % out_height, ow = row % out_width;
    float* column = columns + row * filter_size_;
    for (int64_t kh = 0; kh < c.kernel_h; ++kh) {
      const int64_t ih = oh * c.stride_h - c.padding_h + kh * c.dilation_h;
      for (int64_t kw = 0; kw < c.kernel_w; ++kw, column += channels) {
        const int64_t iw = ow * c.stride_w - c.padding_w + kw * c.dilation_w;
        if (ih < 0 || ih >= height || iw < 0 || iw >= width) {
          std::memset(column, 0, run);
        } else {
          std::memcpy(column, source + ((n * height + ih) * width + iw) * channels, run);
        }
      }
    }
  }
}

void Im2colConvolution::sum_back(const float* columns, float* source_grad) const {
  const OwnLoopTimer timer;
  const auto& c = config_;
  const Shape output = c.output_shape();
  const int64_t height = c.input[2], width = c.input[3], channels = c.input[1];
  const int64_t out_height = output[2], out_width = output[3];
  const int64_t sample_size = height * width * channels;
  // One sample per thread at a time: every input position gathers its taps in the same order
  // whatever the thread count.
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < c.input[0]; ++n) {
    float* sample = source_grad + n * sample_size;
    std::fill_n(sample, sample_size, 0.0f);
    for (int64_t oh = 0; oh < out_height; ++oh)
      for (int64_t ow = 0; ow < out_width; ++ow) {
        const float* column = columns + ((n * out_height + oh) * out_width + ow) * filter_size_;
        for (int64_t kh = 0; kh < c.kernel_h; ++kh) {
          const int64_t ih = oh * c.stride_h - c.padding_h + kh * c.dilation_h;
          for (int64_t kw = 0; kw < c.kernel_w; ++kw, column += channels) {
            const int64_t iw = ow * c.stride_w - c.padding_w + kw * c.dilation_w;
            if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
            float* target = sample + (ih * width + iw) * channels;
            for (int64_t channel = 0; channel < channels; ++channel)
              target[channel] += column[channel];
          }
        }
      }
  }
}

void Im2colConvolution::load_weights(const float* weights) {
  auto plain = view_as(plain_weights_, weights);
  auto by_tap = view_as(weights_by_tap_, weights_matrix_);
  execute_reorder(plain, by_tap);
}

float* Im2colConvolution::columns() const {
  return static_cast<float*>(transient_buffer(TransientRole::im2col_columns, columns_.get_size()));
}

void Im2colConvolution::forward(const memory& source, const float* weights, const float* bias,
                                const memory& destination) {
  load_weights(weights);
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  float* unrolled = columns();
  unroll(static_cast<const float*>(input.get_data_handle()), unrolled);
  auto result =
      target_in_layout(destination, destination_rows_, TransientRole::lowered_output_rows);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, view_as(columns_, unrolled)},
                                       {DNNL_ARG_WEIGHTS, weights_matrix_},
                                       {DNNL_ARG_DST, view_as(results_, result)}};
  if (bias != nullptr) args[DNNL_ARG_BIAS] = view_as(bias_, bias);
  execute(forward_, args);
  deliver(result, destination);
}

void Im2colConvolution::backward_data(const memory& destination_grad, const float* weights,
                                      const memory& source_grad) {
  load_weights(weights);
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  float* unrolled = columns();
  execute(backward_data_, {{DNNL_ARG_SRC, view_as(results_, gradient)},
                           {DNNL_ARG_WEIGHTS, view_as(weights_transposed_, weights_matrix_)},
                           {DNNL_ARG_DST, view_as(columns_, unrolled)}});
  auto result = target_in_layout(source_grad, source_rows_, TransientRole::lowered_input_rows);
  sum_back(unrolled, static_cast<float*>(result.get_data_handle()));
  deliver(result, source_grad);
}

void Im2colConvolution::backward_weights(const memory& source, const memory& destination_grad,
                                         float* weights_grad, float* bias_grad) {
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  float* unrolled = columns();
  unroll(static_cast<const float*>(input.get_data_handle()), unrolled);
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  const auto* gradient_rows = static_cast<const float*>(gradient.get_data_handle());
  execute(backward_weights_, {{DNNL_ARG_SRC, view_as(columns_transposed_, unrolled)},
                              {DNNL_ARG_WEIGHTS, view_as(results_, gradient_rows)},
                              {DNNL_ARG_DST, weights_matrix_}});
  auto by_tap = view_as(weights_by_tap_, weights_matrix_);
  auto plain = view_as(plain_weights_, weights_grad);
  execute_reorder(by_tap, plain);
  if (bias_grad != nullptr) sum_rows(gradient_rows, rows_, config_.out_channels, bias_grad);
}

}  // namespace convoy::kernels
