#include "framework/kernels/winograd_convolution.hpp"

#include <algorithm>
#include <cstring>

#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

using dnnl::memory;
using tag = memory::format_tag;
using Pass = WinogradConvolution::Pass;

// The measured region (Zen 3, oneDNN 2.6 jit:avx2 against this path, forward + backward-data +
// backward-weights, a one-off probe): 64 channels on 8x8 at batch 128 0.57-0.64 of the direct
// convolution's time, 128 on 16x16 0.65, 256 on 8x8 0.44, 512 on 4x4 0.54, 128 on 28x28 and 256
// on 14x14 at batch 32 0.61 and 0.52; 32 channels on 16x16 took 1.25x and 16 on 32x32 2.1x (the
// transforms' memory traffic outweighs the matmuls' saving there). AVX-512 machines were not
// measured, so their convolutions keep the primitives.
static constexpr int64_t kMinChannels = 64;
// The batch runs in equal chunks of images whose tiles fill at most this much of a buffer (the
// whole batch where it fits): large maps then need no more memory than small ones, and a
// chunk's tiles are still thousands of matmul rows.
static constexpr size_t kChunkTileBytes = size_t{32} << 20;
static constexpr int64_t kPositions = 16;  // of a transformed 4x4 tile

static bool supported(const ConvolutionConfig& c) {
  return c.kernel_h == 3 && c.kernel_w == 3 && c.stride_h == 1 && c.stride_w == 1 &&
         c.dilation_h == 1 && c.dilation_w == 1 && c.groups == 1 && c.padding_h <= 2 &&
         c.padding_w <= 2 && c.compute_type == DataType::f32;
}

static Pass pass_of(int64_t batch, int64_t in_height, int64_t in_width, int64_t in_channels,
                    int64_t out_height, int64_t out_width, int64_t out_channels, int64_t padding_h,
                    int64_t padding_w) {
  return {batch,        in_height, in_width,  in_channels,          out_height,         out_width,
          out_channels, padding_h, padding_w, (out_height + 1) / 2, (out_width + 1) / 2};
}

static Pass forward_pass(const ConvolutionConfig& c) {
  const Shape output = c.output_shape();
  return pass_of(c.input[0], c.input[2], c.input[3], c.input[1], output[2], output[3],
                 c.out_channels, c.padding_h, c.padding_w);
}

// dx = dy convolved with the turned filters, padded by 2 - padding: the same map sizes reversed.
static Pass backward_data_pass(const ConvolutionConfig& c) {
  const Shape output = c.output_shape();
  return pass_of(c.input[0], output[2], output[3], c.out_channels, c.input[2], c.input[3],
                 c.input[1], 2 - c.padding_h, 2 - c.padding_w);
}

// Images per chunk: the largest divisor of the batch whose tiles fit kChunkTileBytes in either
// buffer of either pass, else one.
static int64_t images_per_chunk(const Pass& forward, const Pass& backward) {
  const int64_t widest = std::max(forward.in_channels, forward.out_channels);
  const int64_t tiles_per_image =
      std::max(forward.tiles_h * forward.tiles_w, backward.tiles_h * backward.tiles_w);
  const size_t image_bytes =
      static_cast<size_t>(kPositions * tiles_per_image * widest) * sizeof(float);
  for (int64_t images = forward.batch; images > 1; --images) {
    if (forward.batch % images == 0 &&
        static_cast<size_t>(images) * image_bytes <= kChunkTileBytes) {
      return images;
    }
  }
  return 1;
}

bool WinogradConvolution::preferred(const ConvolutionConfig& config, const std::string& primitive) {
  return primitive == "jit:avx2" && supported(config) && config.input[1] >= kMinChannels &&
         config.out_channels >= kMinChannels;
}

std::unique_ptr<WinogradConvolution> WinogradConvolution::create(const ConvolutionConfig& config) {
  const auto& c = config;
  if (!supported(c)) return nullptr;
  Pass forward = forward_pass(c), backward = backward_data_pass(c);
  const int64_t images = images_per_chunk(forward, backward);
  forward.batch = backward.batch = images;  // both passes run chunk by chunk
  std::unique_ptr<WinogradConvolution> created(new WinogradConvolution);
  auto& lowered = *created;
  lowered.config_ = c;
  lowered.forward_pass_ = forward;
  lowered.backward_data_pass_ = backward;
  lowered.chunks_ = c.input[0] / images;
  const auto f32 = memory::data_type::f32;
  lowered.source_rows_ = memory::desc(to_dnnl_dims(c.input), f32, tag::nhwc);
  lowered.destination_rows_ = memory::desc(to_dnnl_dims(c.output_shape()), f32, tag::nhwc);
  const int64_t channels = c.input[1], out_channels = c.out_channels;
  auto matrices = [&](int64_t rows, int64_t columns, tag order = tag::abc) {
    return memory::desc({kPositions, rows, columns}, f32, order);
  };
  lowered.forward_tiles_ = matrices(forward.tiles(), channels);
  lowered.forward_filters_ = matrices(channels, out_channels);
  lowered.forward_products_ = matrices(forward.tiles(), out_channels);
  lowered.backward_tiles_ = matrices(backward.tiles(), out_channels);
  lowered.backward_filters_ = matrices(out_channels, channels);
  lowered.backward_products_ = matrices(backward.tiles(), channels);
  lowered.tiles_transposed_ = matrices(channels, forward.tiles(), tag::acb);
  lowered.filter_gradients_ = matrices(channels, out_channels);
  const bool built =
      guarded("creating the Winograd convolution for input " + to_string(c.input), [&] {
        dnnl::matmul::primitive_desc forward_product(
            dnnl::matmul::desc(lowered.forward_tiles_, lowered.forward_filters_,
                               lowered.forward_products_),
            engine());
        dnnl::matmul::primitive_desc backward_product(
            dnnl::matmul::desc(lowered.backward_tiles_, lowered.backward_filters_,
                               lowered.backward_products_),
            engine());
        const dnnl::matmul::desc weights_desc(lowered.tiles_transposed_, lowered.forward_products_,
                                              lowered.filter_gradients_);
        dnnl::matmul::primitive_desc weights_product(weights_desc, engine());
        // Each later chunk adds its filter gradients to the earlier chunks'.
        dnnl::post_ops sum;
        sum.append_sum(1.0f);
        dnnl::primitive_attr accumulate;
        accumulate.set_post_ops(sum);
        dnnl::matmul::primitive_desc weights_sum(weights_desc, accumulate, engine());
        if (is_reference(forward_product) || is_reference(backward_product) ||
            is_reference(weights_product) || is_reference(weights_sum)) {
          return false;
        }
        lowered.forward_ = dnnl::matmul(forward_product);
        lowered.backward_data_ = dnnl::matmul(backward_product);
        lowered.backward_weights_ = dnnl::matmul(weights_product);
        lowered.backward_weights_sum_ = dnnl::matmul(weights_sum);
        lowered.implementation_ =
            std::string("winograd F(2x2,3x3) matmul (") + forward_product.impl_info_str() + ")";
        if (lowered.chunks_ > 1) {
          lowered.implementation_ += " in " + std::to_string(lowered.chunks_) + " chunks";
        }
        return true;
      });
  if (!built) return nullptr;
  return created;
}

std::string WinogradConvolution::implementation() const { return implementation_; }

// Where tile `tile` of `pass` lies: its image and the first output row and column of its 2x2
// block (the input tile starts `padding` earlier).
struct TilePlace {
  int64_t image, top, left;
};
static TilePlace place_of(int64_t tile, const Pass& pass) {
  return {tile / (pass.tiles_h * pass.tiles_w), tile / pass.tiles_w % pass.tiles_h * 2,
          tile % pass.tiles_w * 2};
}

// The offset of channel `first` of position `position` (of 16) of tile `tile` in a tile buffer
// of `count` tiles, [position][tile][channel].
static int64_t tile_offset(int64_t position, int64_t tile, int64_t count, int64_t channels,
                           int64_t first) {
  return (position * count + tile) * channels + first;
}

// The transforms below write and read tile buffers [position][tile][channel] and NHWC maps.
// Each runs over a tile's channels eight at a time (one AVX2 register, `Lanes`) and then one at a
// time for the rest, the same arithmetic written once for both (`Lane` is Lanes or float). They
// only add and subtract, so every clone and lane width computes the same bits.

// Eight floats as one value: GCC/Clang vector extensions, lowered to AVX2 or SSE by the clone
// that inlines them; unaligned (as __m256_u). The helpers taking and returning them are always
// inlined, so no call passes one across an ABI (GCC's -Wpsabi note does not apply).
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Lanes __attribute__((vector_size(32), aligned(4)));
static constexpr int64_t kLaneWidth = 8;

template <class Lane>
[[gnu::always_inline]] inline Lane load(const float* from) {
  Lane value;
  std::memcpy(&value, from, sizeof value);
  return value;
}
template <class Lane>
[[gnu::always_inline]] inline void store(float* to, Lane value) {
  std::memcpy(to, &value, sizeof value);
}
// Zero where `from` is null (a pixel outside the map).
template <class Lane>
[[gnu::always_inline]] inline Lane load_or_zero(const float* from) {
  return from != nullptr ? load<Lane>(from) : Lane{};
}
// std::max(value, 0) lane by lane: NaN stays NaN.
template <class Lane>
[[gnu::always_inline]] inline Lane relu_of(Lane value) {
  return value < Lane{} ? Lane{} : value;
}

// Runs `body(first, lane_tag)` over channels [0, channels): eight at a time with a Lanes tag,
// then one at a time with a float tag.
template <class Body>
[[gnu::always_inline]] inline void over_channels(int64_t channels, Body&& body) {
  int64_t first = 0;
  for (; first + kLaneWidth <= channels; first += kLaneWidth) body(first, Lanes{});
  for (; first < channels; ++first) body(first, 0.0f);
}

// V = B^T d B for one 4x4 tile's channels [first, first + lane width), d read through
// pixels[i][j] (null: zero padding), V written to out + position * stride.
template <class Lane>
[[gnu::always_inline]] inline void input_tile(const float* const pixels[4][4], int64_t first,
                                              float* out, int64_t stride) {
  Lane r[4][4];
  for (int64_t j = 0; j < 4; ++j) {
    const Lane d0 = load_or_zero<Lane>(pixels[0][j] ? pixels[0][j] + first : nullptr);
    const Lane d1 = load_or_zero<Lane>(pixels[1][j] ? pixels[1][j] + first : nullptr);
    const Lane d2 = load_or_zero<Lane>(pixels[2][j] ? pixels[2][j] + first : nullptr);
    const Lane d3 = load_or_zero<Lane>(pixels[3][j] ? pixels[3][j] + first : nullptr);
    r[0][j] = d0 - d2;
    r[1][j] = d1 + d2;
    r[2][j] = d2 - d1;
    r[3][j] = d1 - d3;
  }
  for (int64_t i = 0; i < 4; ++i) {
    store(out + (i * 4 + 0) * stride, r[i][0] - r[i][2]);
    store(out + (i * 4 + 1) * stride, r[i][1] + r[i][2]);
    store(out + (i * 4 + 2) * stride, r[i][2] - r[i][1]);
    store(out + (i * 4 + 3) * stride, r[i][1] - r[i][3]);
  }
}

// V = B^T d B for every 4x4 input tile d (zero outside the map), B^T = [1 0 -1 0; 0 1 1 0;
// 0 -1 1 0; 0 1 0 -1].
__attribute__((target_clones("avx2", "default"))) static void transform_input_tiles(
    const float* input, float* tiles, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles(), channels = pass.in_channels;
  const int64_t stride = count * channels;  // from one position to the next
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < count; ++tile) {
    const auto [n, block_top, block_left] = place_of(tile, pass);
    const int64_t top = block_top - pass.padding_h, left = block_left - pass.padding_w;
    const float* pixels[4][4];
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t row = top + i, column = left + j;
        const bool inside =
            row >= 0 && row < pass.in_height && column >= 0 && column < pass.in_width;
        pixels[i][j] =
            inside ? input + ((n * pass.in_height + row) * pass.in_width + column) * channels
                   : nullptr;
      }
    float* out = tiles + tile_offset(0, tile, count, channels, 0);
    over_channels(channels, [&](int64_t first, auto lane) {
      input_tile<decltype(lane)>(pixels, first, out + first, stride);
    });
  }
}

// One 2x2 output block = A^T M A (+ bias, then ReLU) for channels [first, first + lane width),
// M read from products + position * stride, written through pixels[i][j] (null: beyond an
// odd-sized map, dropped).
template <class Lane>
[[gnu::always_inline]] inline void output_tile(const float* products, int64_t stride, int64_t first,
                                               float* const pixels[2][2], const float* bias,
                                               bool relu) {
  Lane s[2][4];
  for (int64_t j = 0; j < 4; ++j) {
    const Lane m0 = load<Lane>(products + (0 * 4 + j) * stride);
    const Lane m1 = load<Lane>(products + (1 * 4 + j) * stride);
    const Lane m2 = load<Lane>(products + (2 * 4 + j) * stride);
    const Lane m3 = load<Lane>(products + (3 * 4 + j) * stride);
    s[0][j] = m0 + m1 + m2;
    s[1][j] = m1 - m2 - m3;
  }
  for (int64_t i = 0; i < 2; ++i) {
    Lane y[2] = {s[i][0] + s[i][1] + s[i][2], s[i][1] - s[i][2] - s[i][3]};
    for (int64_t j = 0; j < 2; ++j) {
      if (pixels[i][j] == nullptr) continue;
      Lane value = y[j];
      if (bias != nullptr) value += load<Lane>(bias + first);
      store(pixels[i][j] + first, relu ? relu_of(value) : value);
    }
  }
}

// Each 2x2 output block = A^T M A (+ bias, then ReLU), A^T = [1 1 1 0; 0 1 -1 -1]; the parts of
// a block beyond an odd-sized map are dropped.
__attribute__((target_clones("avx2", "default"))) static void transform_output_tiles(
    const float* products, float* output, const float* bias, bool relu, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles(), channels = pass.out_channels;
  const int64_t stride = count * channels;
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < count; ++tile) {
    const auto [n, top, left] = place_of(tile, pass);
    float* pixels[2][2];
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t row = top + i, column = left + j;
        pixels[i][j] =
            row < pass.out_height && column < pass.out_width
                ? output + ((n * pass.out_height + row) * pass.out_width + column) * channels
                : nullptr;
      }
    const float* block = products + tile_offset(0, tile, count, channels, 0);
    over_channels(channels, [&](int64_t first, auto lane) {
      output_tile<decltype(lane)>(block + first, stride, first, pixels, bias, relu);
    });
  }
}

// dM = A dY A^T for one 2x2 block of dy's channels [first, first + lane width), dY read through
// pixels[i][j] (null: zero beyond an odd-sized map), dM written to out + position * stride.
template <class Lane>
[[gnu::always_inline]] inline void output_gradient_tile(const float* const pixels[2][2],
                                                        int64_t first, float* out, int64_t stride) {
  Lane r[4][2];
  for (int64_t j = 0; j < 2; ++j) {
    const Lane g0 = load_or_zero<Lane>(pixels[0][j] ? pixels[0][j] + first : nullptr);
    const Lane g1 = load_or_zero<Lane>(pixels[1][j] ? pixels[1][j] + first : nullptr);
    r[0][j] = g0;
    r[1][j] = g0 + g1;
    r[2][j] = g0 - g1;
    r[3][j] = -g1;
  }
  for (int64_t i = 0; i < 4; ++i) {
    store(out + (i * 4 + 0) * stride, r[i][0]);
    store(out + (i * 4 + 1) * stride, r[i][0] + r[i][1]);
    store(out + (i * 4 + 2) * stride, r[i][0] - r[i][1]);
    store(out + (i * 4 + 3) * stride, -r[i][1]);
  }
}

// The gradient of the output transform: dM = A dY A^T for every 2x2 block of dy (zero beyond
// an odd-sized map).
__attribute__((target_clones("avx2", "default"))) static void transform_output_gradient_tiles(
    const float* output_grad, float* tiles, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles(), channels = pass.out_channels;
  const int64_t stride = count * channels;
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < count; ++tile) {
    const auto [n, top, left] = place_of(tile, pass);
    const float* pixels[2][2];
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t row = top + i, column = left + j;
        pixels[i][j] =
            row < pass.out_height && column < pass.out_width
                ? output_grad + ((n * pass.out_height + row) * pass.out_width + column) * channels
                : nullptr;
      }
    float* out = tiles + tile_offset(0, tile, count, channels, 0);
    over_channels(channels, [&](int64_t first, auto lane) {
      output_gradient_tile<decltype(lane)>(pixels, first, out + first, stride);
    });
  }
}

// U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], written to u[position * stride].
static void transform_filter(const float g[3][3], float* u, int64_t stride) {
  float t[4][3];  // G g
  for (int64_t j = 0; j < 3; ++j) {
    t[0][j] = g[0][j];
    t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
    t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
    t[3][j] = g[2][j];
  }
  for (int64_t i = 0; i < 4; ++i) {
    u[(i * 4 + 0) * stride] = t[i][0];
    u[(i * 4 + 1) * stride] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
    u[(i * 4 + 2) * stride] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
    u[(i * 4 + 3) * stride] = t[i][2];
  }
}

// dg = G^T dU G, the gradient of transform_filter, dU read from du[position * stride].
static void filter_gradient(const float* du, int64_t stride, float dg[3][3]) {
  float t[4][3];  // dU G
  for (int64_t i = 0; i < 4; ++i) {
    const float a = du[(i * 4 + 0) * stride], b = du[(i * 4 + 1) * stride];
    const float c = du[(i * 4 + 2) * stride], d = du[(i * 4 + 3) * stride];
    t[i][0] = a + 0.5f * (b + c);
    t[i][1] = 0.5f * (b - c);
    t[i][2] = 0.5f * (b + c) + d;
  }
  for (int64_t j = 0; j < 3; ++j) {
    dg[0][j] = t[0][j] + 0.5f * (t[1][j] + t[2][j]);
    dg[1][j] = 0.5f * (t[1][j] - t[2][j]);
    dg[2][j] = 0.5f * (t[1][j] + t[2][j]) + t[3][j];
  }
}

float* WinogradConvolution::transformed_filters(const float* weights,
                                                bool for_backward_data) const {
  const OwnLoopTimer timer;
  const int64_t channels = config_.input[1], out_channels = config_.out_channels;
  const int64_t pairs = channels * out_channels;
  auto* filters = static_cast<float*>(transient_buffer(
      TransientRole::winograd_filters, static_cast<size_t>(kPositions * pairs) * sizeof(float)));
  // forward: (C, O) matrices; backward-data: (O, C), the in/out channels swapped. The inner loop
  // runs along the matrices' rows, so each position's writes are contiguous.
  const int64_t rows = for_backward_data ? out_channels : channels;
  const int64_t columns = for_backward_data ? channels : out_channels;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t column = 0; column < columns; ++column) {
      const int64_t o = for_backward_data ? row : column, c = for_backward_data ? column : row;
      const float* w = weights + (o * channels + c) * 9;
      float g[3][3];
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j)
          g[i][j] = for_backward_data ? w[8 - (i * 3 + j)] : w[i * 3 + j];
      transform_filter(g, filters + row * columns + column, pairs);
    }
  return filters;
}

// Where a chunk's images start in an NHWC tensor of `pass`'s input or output, in floats.
static int64_t input_chunk_size(const Pass& pass) {
  return pass.batch * pass.in_height * pass.in_width * pass.in_channels;
}
static int64_t output_chunk_size(const Pass& pass) {
  return pass.batch * pass.out_height * pass.out_width * pass.out_channels;
}

void WinogradConvolution::forward(const memory& source, const float* weights, const float* bias,
                                  const memory& destination) {
  const Pass& pass = forward_pass_;
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  const auto* input_rows = static_cast<const float*>(input.get_data_handle());
  auto* tiles = static_cast<float*>(
      transient_buffer(TransientRole::winograd_input_tiles, forward_tiles_.get_size()));
  auto* products = static_cast<float*>(
      transient_buffer(TransientRole::winograd_output_tiles, forward_products_.get_size()));
  const auto filters = view_as(forward_filters_, transformed_filters(weights, false));
  auto result =
      target_in_layout(destination, destination_rows_, TransientRole::lowered_output_rows);
  auto* output_rows = static_cast<float*>(result.get_data_handle());
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(input_rows + chunk * input_chunk_size(pass), tiles, pass);
    execute(forward_, {{DNNL_ARG_SRC, view_as(forward_tiles_, tiles)},
                       {DNNL_ARG_WEIGHTS, filters},
                       {DNNL_ARG_DST, view_as(forward_products_, products)}});
    transform_output_tiles(products, output_rows + chunk * output_chunk_size(pass), bias,
                           config_.fuse_relu, pass);
  }
  deliver(result, destination);
}

void WinogradConvolution::backward_data(const memory& destination_grad, const float* weights,
                                        const memory& source_grad) {
  const Pass& pass = backward_data_pass_;
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  const auto* gradient_rows = static_cast<const float*>(gradient.get_data_handle());
  auto* tiles = static_cast<float*>(
      transient_buffer(TransientRole::winograd_input_tiles, backward_tiles_.get_size()));
  auto* products = static_cast<float*>(
      transient_buffer(TransientRole::winograd_output_tiles, backward_products_.get_size()));
  const auto filters = view_as(backward_filters_, transformed_filters(weights, true));
  auto result = target_in_layout(source_grad, source_rows_, TransientRole::lowered_input_rows);
  auto* source_grad_rows = static_cast<float*>(result.get_data_handle());
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(gradient_rows + chunk * input_chunk_size(pass), tiles, pass);
    execute(backward_data_, {{DNNL_ARG_SRC, view_as(backward_tiles_, tiles)},
                             {DNNL_ARG_WEIGHTS, filters},
                             {DNNL_ARG_DST, view_as(backward_products_, products)}});
    transform_output_tiles(products, source_grad_rows + chunk * output_chunk_size(pass), nullptr,
                           false, pass);
  }
  deliver(result, source_grad);
}

void WinogradConvolution::backward_weights(const memory& source, const memory& destination_grad,
                                           float* weights_grad, float* bias_grad) {
  const Pass& pass = forward_pass_;
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  const auto* input_rows = static_cast<const float*>(input.get_data_handle());
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  const auto* gradient_rows = static_cast<const float*>(gradient.get_data_handle());
  auto* tiles = static_cast<float*>(
      transient_buffer(TransientRole::winograd_input_tiles, forward_tiles_.get_size()));
  auto* gradient_tiles = static_cast<float*>(
      transient_buffer(TransientRole::winograd_output_tiles, forward_products_.get_size()));
  const int64_t channels = config_.input[1], out_channels = config_.out_channels;
  const int64_t pairs = channels * out_channels;
  auto* filter_grads = static_cast<float*>(transient_buffer(
      TransientRole::winograd_filters, static_cast<size_t>(kPositions * pairs) * sizeof(float)));
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(input_rows + chunk * input_chunk_size(pass), tiles, pass);
    transform_output_gradient_tiles(gradient_rows + chunk * output_chunk_size(pass), gradient_tiles,
                                    pass);
    execute(chunk == 0 ? backward_weights_ : backward_weights_sum_,
            {{DNNL_ARG_SRC, view_as(tiles_transposed_, tiles)},
             {DNNL_ARG_WEIGHTS, view_as(forward_products_, gradient_tiles)},
             {DNNL_ARG_DST, view_as(filter_gradients_, filter_grads)}});
  }
  {
    const OwnLoopTimer timer;
    // Along dU's (C, O) rows, as transformed_filters.
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t o = 0; o < out_channels; ++o) {
        float dg[3][3];
        filter_gradient(filter_grads + c * out_channels + o, pairs, dg);
        std::memcpy(weights_grad + (o * channels + c) * 9, dg, sizeof dg);
      }
  }
  if (bias_grad != nullptr) {
    sum_rows(gradient_rows, config_.input[0] * pass.out_height * pass.out_width, out_channels,
             bias_grad);
  }
}

}  // namespace convoy::kernels
