#include "framework/kernels/winograd_convolution.hpp"

#include <algorithm>
#include <cstring>

#include "framework/common/error.hpp"
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

static bool supported(const ConvolutionConfig& c) {
  return c.kernel_h == 3 && c.kernel_w == 3 && c.stride_h == 1 && c.stride_w == 1 &&
         c.dilation_h == 1 && c.dilation_w == 1 && c.groups == 1 && c.padding_h <= 2 &&
         c.padding_w <= 2 && c.compute_type == DataType::f32;
}

static Pass pass_of(int64_t batch, int64_t in_height, int64_t in_width, int64_t in_channels,
                    int64_t out_height, int64_t out_width, int64_t out_channels, int64_t padding_h,
                    int64_t padding_w, int64_t block) {
  return {batch,
          in_height,
          in_width,
          in_channels,
          out_height,
          out_width,
          out_channels,
          padding_h,
          padding_w,
          block,
          (out_height + block - 1) / block,
          (out_width + block - 1) / block};
}

static Pass forward_pass(const ConvolutionConfig& c, int64_t block) {
  const Shape output = c.output_shape();
  return pass_of(c.input[0], c.input[2], c.input[3], c.input[1], output[2], output[3],
                 c.out_channels, c.padding_h, c.padding_w, block);
}

// dx = dy convolved with the turned filters, padded by 2 - padding: the same map sizes reversed.
static Pass backward_data_pass(const ConvolutionConfig& c, int64_t block) {
  const Shape output = c.output_shape();
  return pass_of(c.input[0], output[2], output[3], c.out_channels, c.input[2], c.input[3],
                 c.input[1], 2 - c.padding_h, 2 - c.padding_w, block);
}

// The output block where the config leaves it to the rule: 4x4 where its transformed tiles
// (36 values per 4x4 block) hold at most 0.6 of the 2x2 blocks' (16 values per 2x2 block) for
// this map, i.e. where the map is not much cut by 4x4 blocks (4k - 1 or 4k wide: 7, 8, 28, 32,
// 56; not 6 or 14), else 2x2. Measured (Zen 3, forward + both backward passes, --winograd-tile
// 4 against 2 side by side): resnet18 b128 on 32x32 0.69 of the step, vgg11_bn b128 0.88,
// resnet20's 64-channel layers on 7x7 0.84; resnet50's 14x14 layers measured no faster.
static int64_t automatic_block(const ConvolutionConfig& c) {
  const Shape output = c.output_shape();
  auto values = [&](int64_t block) {
    const int64_t tiles = ((output[2] + block - 1) / block) * ((output[3] + block - 1) / block);
    return tiles * (block + 2) * (block + 2);
  };
  return 10 * values(4) <= 6 * values(2) ? 4 : 2;
}

// Images per chunk: the largest divisor of the batch whose tiles fit kChunkTileBytes in either
// buffer of either pass, else one.
static int64_t images_per_chunk(const Pass& forward, const Pass& backward) {
  const int64_t widest = std::max(forward.in_channels, forward.out_channels);
  const int64_t tiles_per_image =
      std::max(forward.tiles_h * forward.tiles_w, backward.tiles_h * backward.tiles_w);
  const size_t image_bytes =
      static_cast<size_t>(forward.positions() * tiles_per_image * widest) * sizeof(float);
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
  const int64_t block = c.winograd_tile != 0 ? c.winograd_tile : automatic_block(c);
  if (block != 2 && block != 4) {
    throw ConfigError("Winograd output blocks are 2x2 or 4x4, got " + std::to_string(block));
  }
  Pass forward = forward_pass(c, block), backward = backward_data_pass(c, block);
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
    return memory::desc({forward.positions(), rows, columns}, f32, order);
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
        const std::string size = std::to_string(block) + "x" + std::to_string(block);
        lowered.implementation_ = "winograd F(" + size + ",3x3) matmul (" +
                                  std::string(forward_product.impl_info_str()) + ")";
        if (lowered.chunks_ > 1) {
          lowered.implementation_ += " in " + std::to_string(lowered.chunks_) + " chunks";
        }
        return true;
      });
  if (!built) return nullptr;
  return created;
}

std::string WinogradConvolution::implementation() const { return implementation_; }

// Where tile `tile` of `pass` lies: its image and the first output row and column of its block
// of block x block outputs (the input tile starts `padding` earlier).
struct TilePlace {
  int64_t image, top, left;
};
static TilePlace place_of(int64_t tile, const Pass& pass) {
  return {tile / (pass.tiles_h * pass.tiles_w), tile / pass.tiles_w % pass.tiles_h * pass.block,
          tile % pass.tiles_w * pass.block};
}

// The offset of channel `first` of position `position` of tile `tile` in a tile buffer of
// `count` tiles, [position][tile][channel].
static int64_t tile_offset(int64_t position, int64_t tile, int64_t count, int64_t channels,
                           int64_t first) {
  return (position * count + tile) * channels + first;
}

// The one-dimensional transforms of F(m, 3), m = 2 and 4 (Lavin & Gray, 2015); the tile
// transforms apply them along one index of a tile and then the other. Input, output and
// output-gradient transforms run on `Lane`s (eight channels or one, below); the filter's on
// `Real`s. F(2, 3) only adds, subtracts and halves, so float is exact enough; F(4, 3)'s filter
// transform divides by 6, 12 and 24 and its filter gradient sums such terms, so they run in double
// and round once.
template <int64_t M>
struct Transforms;

template <>
struct Transforms<2> {
  using Real = float;
  // v = B^T d, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
  template <class Lane>
  [[gnu::always_inline]] static void input(const Lane d[4], Lane v[4]) {
    v[0] = d[0] - d[2];
    v[1] = d[1] + d[2];
    v[2] = d[2] - d[1];
    v[3] = d[1] - d[3];
  }
  // y = A^T m, A^T = [1 1 1 0; 0 1 -1 -1]
  template <class Lane>
  [[gnu::always_inline]] static void output(const Lane m[4], Lane y[2]) {
    y[0] = m[0] + m[1] + m[2];
    y[1] = m[1] - m[2] - m[3];
  }
  // dm = A dy, the gradient of output()
  template <class Lane>
  [[gnu::always_inline]] static void output_gradient(const Lane g[2], Lane r[4]) {
    r[0] = g[0];
    r[1] = g[0] + g[1];
    r[2] = g[0] - g[1];
    r[3] = -g[1];
  }
  // u = G g, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
  static void filter(const Real g[3], Real u[4]) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
  // dg = G^T du, the gradient of filter()
  static void filter_gradient(const Real du[4], Real dg[3]) {
    dg[0] = du[0] + 0.5f * (du[1] + du[2]);
    dg[1] = 0.5f * (du[1] - du[2]);
    dg[2] = 0.5f * (du[1] + du[2]) + du[3];
  }
};

template <>
struct Transforms<4> {
  using Real = double;
  // v = B^T d, B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
  // 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
  template <class Lane>
  [[gnu::always_inline]] static void input(const Lane d[6], Lane v[6]) {
    const Lane a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
    const Lane c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);
    v[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    v[1] = a + b;
    v[2] = a - b;
    v[3] = c + e;
    v[4] = c - e;
    v[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
  }
  // y = A^T m, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
  template <class Lane>
  [[gnu::always_inline]] static void output(const Lane m[6], Lane y[4]) {
    const Lane a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], e = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + 2.0f * e;
    y[2] = a + 4.0f * c;
    y[3] = b + 8.0f * e + m[5];
  }
  // dm = A dy, the gradient of output()
  template <class Lane>
  [[gnu::always_inline]] static void output_gradient(const Lane g[4], Lane r[6]) {
    const Lane p = g[0] + g[2], q = g[1] + g[3];
    const Lane s = g[0] + 4.0f * g[2], t = 2.0f * g[1] + 8.0f * g[3];
    r[0] = g[0];
    r[1] = p + q;
    r[2] = p - q;
    r[3] = s + t;
    r[4] = s - t;
    r[5] = g[3];
  }
  // u = G g, G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
  static constexpr Real kSixth = 1.0 / 6;
  static void filter(const Real g[3], Real u[6]) {
    const Real p = g[0] + g[2], q = 0.25 * g[0] + g[2];
    u[0] = 0.25 * g[0];
    u[1] = -(p + g[1]) * kSixth;
    u[2] = -(p - g[1]) * kSixth;
    u[3] = (q + 0.5 * g[1]) * kSixth;
    u[4] = (q - 0.5 * g[1]) * kSixth;
    u[5] = g[2];
  }
  // dg = G^T du, the gradient of filter()
  static void filter_gradient(const Real du[6], Real dg[3]) {
    dg[0] = 0.25 * du[0] + (0.25 * (du[3] + du[4]) - (du[1] + du[2])) * kSixth;
    dg[1] = (du[2] - du[1] + 0.5 * (du[3] - du[4])) * kSixth;
    dg[2] = (du[3] + du[4] - du[1] - du[2]) * kSixth + du[5];
  }
};

// The tile transforms below write and read tile buffers [position][tile][channel] and NHWC
// maps. Each runs over a tile's channels eight at a time (one AVX2 register, `Lanes`) and then
// one at a time for the rest, the same arithmetic written once for both (`Lane` is Lanes or
// float), in a fixed order without fused multiply-adds (the clones' targets have none), so every
// clone and lane width computes the same bits.

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
// Channel `first` onwards of a pixel, zero where the pixel is null (outside the map).
template <class Lane>
[[gnu::always_inline]] inline Lane load_or_zero(const float* pixel, int64_t first) {
  return pixel != nullptr ? load<Lane>(pixel + first) : Lane{};
}
// std::max(value, 0) lane by lane: NaN stays NaN.
template <class Lane>
[[gnu::always_inline]] inline Lane relu_of(Lane value) {
  return value < Lane{} ? Lane{} : value;
}

// Applies a 1-D transform (In -> Out values) along the first index of an In x In block of
// channels [first, first + lane width), read through pixels[i][j] (null: zero), then along the
// second, and writes the Out x Out result to out + position * stride: the input transform
// V = B^T d B (In = Out = M + 2) and the output-gradient transform dM = A dY A^T (In = M).
template <int64_t In, int64_t Out, class Lane, class Transform>
[[gnu::always_inline]] inline void transform_both_ways(const float* const pixels[In][In],
                                                       int64_t first, float* out, int64_t stride,
                                                       Transform transform) {
  Lane columns[Out][In];  // transformed along the first index
#pragma GCC unroll 8
  for (int64_t j = 0; j < In; ++j) {
    Lane column[In], transformed[Out];
#pragma GCC unroll 8
    for (int64_t i = 0; i < In; ++i) column[i] = load_or_zero<Lane>(pixels[i][j], first);
    transform(column, transformed);
#pragma GCC unroll 8
    for (int64_t i = 0; i < Out; ++i) columns[i][j] = transformed[i];
  }
#pragma GCC unroll 8
  for (int64_t i = 0; i < Out; ++i) {
    Lane transformed[Out];
    transform(columns[i], transformed);
#pragma GCC unroll 8
    for (int64_t j = 0; j < Out; ++j) store(out + (i * Out + j) * stride, transformed[j]);
  }
}

// V = B^T d B for one (M+2)x(M+2) tile (zero padding where a pixel is null).
template <int64_t M, class Lane>
[[gnu::always_inline]] inline void input_tile(const float* const pixels[M + 2][M + 2],
                                              int64_t first, float* out, int64_t stride) {
  transform_both_ways<M + 2, M + 2, Lane>(
      pixels, first, out, stride,
      [](const Lane* d, Lane* v) __attribute__((always_inline)) { Transforms<M>::input(d, v); });
}

// One tile of the input transform, every channel.
template <int64_t M>
[[gnu::always_inline]] inline void transform_input_tile(const float* input, float* tiles,
                                                        const Pass& pass, int64_t tile) {
  constexpr int64_t T = M + 2;
  const int64_t count = pass.tiles(), channels = pass.in_channels;
  const auto [n, block_top, block_left] = place_of(tile, pass);
  const int64_t top = block_top - pass.padding_h, left = block_left - pass.padding_w;
  const float* pixels[T][T];
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) {
      const int64_t row = top + i, column = left + j;
      const bool inside = row >= 0 && row < pass.in_height && column >= 0 && column < pass.in_width;
      pixels[i][j] = inside
                         ? input + ((n * pass.in_height + row) * pass.in_width + column) * channels
                         : nullptr;
    }
  float* out = tiles + tile_offset(0, tile, count, channels, 0);
  const int64_t stride = count * channels;  // from one position to the next
  int64_t first = 0;
  for (; first + kLaneWidth <= channels; first += kLaneWidth)
    input_tile<M, Lanes>(pixels, first, out + first, stride);
  for (; first < channels; ++first) input_tile<M, float>(pixels, first, out + first, stride);
}

// V = B^T d B for every input tile d (zero outside the map).
__attribute__((target_clones("avx2", "default"))) static void transform_input_tiles(
    const float* input, float* tiles, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles();
  if (pass.block == 2) {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile) transform_input_tile<2>(input, tiles, pass, tile);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile) transform_input_tile<4>(input, tiles, pass, tile);
  }
}

// One MxM output block = A^T M A (+ bias, then ReLU) for channels [first, first + lane width),
// M read from products + position * stride, written through pixels[i][j] (null: beyond an
// odd-sized map, dropped).
template <int64_t M, class Lane>
[[gnu::always_inline]] inline void output_tile(const float* products, int64_t stride, int64_t first,
                                               float* const pixels[M][M], const float* bias,
                                               bool relu) {
  constexpr int64_t T = M + 2;
  Lane columns[M][T];  // A^T M
#pragma GCC unroll 8
  for (int64_t j = 0; j < T; ++j) {
    Lane m[T], y[M];
#pragma GCC unroll 8
    for (int64_t i = 0; i < T; ++i) m[i] = load<Lane>(products + (i * T + j) * stride);
    Transforms<M>::output(m, y);
#pragma GCC unroll 8
    for (int64_t i = 0; i < M; ++i) columns[i][j] = y[i];
  }
#pragma GCC unroll 8
  for (int64_t i = 0; i < M; ++i) {
    Lane y[M];
    Transforms<M>::output(columns[i], y);
#pragma GCC unroll 8
    for (int64_t j = 0; j < M; ++j) {
      if (pixels[i][j] == nullptr) continue;
      Lane value = y[j];
      if (bias != nullptr) value += load<Lane>(bias + first);
      store(pixels[i][j] + first, relu ? relu_of(value) : value);
    }
  }
}

// Where the pixels of tile `tile`'s MxM block lie in an NHWC map of pass's output size and
// channels (y or dy): null beyond the map (the last blocks of a map they do not divide).
template <int64_t M, class Value>
[[gnu::always_inline]] inline void output_block_pixels(Value* map, const Pass& pass, int64_t tile,
                                                       Value* pixels[M][M]) {
  const auto [n, top, left] = place_of(tile, pass);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < M; ++j) {
      const int64_t row = top + i, column = left + j;
      pixels[i][j] =
          row < pass.out_height && column < pass.out_width
              ? map + ((n * pass.out_height + row) * pass.out_width + column) * pass.out_channels
              : nullptr;
    }
}

// One block of the output transform, every channel.
template <int64_t M>
[[gnu::always_inline]] inline void transform_output_tile(const float* products, float* output,
                                                         const float* bias, bool relu,
                                                         const Pass& pass, int64_t tile) {
  const int64_t count = pass.tiles(), channels = pass.out_channels;
  float* pixels[M][M];
  output_block_pixels<M>(output, pass, tile, pixels);
  const float* block = products + tile_offset(0, tile, count, channels, 0);
  const int64_t stride = count * channels;
  int64_t first = 0;
  for (; first + kLaneWidth <= channels; first += kLaneWidth)
    output_tile<M, Lanes>(block + first, stride, first, pixels, bias, relu);
  for (; first < channels; ++first)
    output_tile<M, float>(block + first, stride, first, pixels, bias, relu);
}

// Each output block = A^T M A (+ bias, then ReLU); the parts of a block beyond the map are
// dropped.
__attribute__((target_clones("avx2", "default"))) static void transform_output_tiles(
    const float* products, float* output, const float* bias, bool relu, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles();
  if (pass.block == 2) {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile)
      transform_output_tile<2>(products, output, bias, relu, pass, tile);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile)
      transform_output_tile<4>(products, output, bias, relu, pass, tile);
  }
}

// dM = A dY A^T for one MxM block of dy (zero where a pixel is null, beyond the map).
template <int64_t M, class Lane>
[[gnu::always_inline]] inline void output_gradient_tile(const float* const pixels[M][M],
                                                        int64_t first, float* out, int64_t stride) {
  transform_both_ways<M, M + 2, Lane>(
      pixels, first, out, stride, [](const Lane* g, Lane* r) __attribute__((always_inline)) {
        Transforms<M>::output_gradient(g, r);
      });
}

// One block of the output-gradient transform, every channel.
template <int64_t M>
[[gnu::always_inline]] inline void transform_output_gradient_tile(const float* output_grad,
                                                                  float* tiles, const Pass& pass,
                                                                  int64_t tile) {
  const int64_t count = pass.tiles(), channels = pass.out_channels;
  const float* pixels[M][M];
  output_block_pixels<M>(output_grad, pass, tile, pixels);
  float* out = tiles + tile_offset(0, tile, count, channels, 0);
  const int64_t stride = count * channels;
  int64_t first = 0;
  for (; first + kLaneWidth <= channels; first += kLaneWidth)
    output_gradient_tile<M, Lanes>(pixels, first, out + first, stride);
  for (; first < channels; ++first)
    output_gradient_tile<M, float>(pixels, first, out + first, stride);
}

// The gradient of the output transform: dM = A dY A^T for every block of dy (zero beyond the
// map).
__attribute__((target_clones("avx2", "default"))) static void transform_output_gradient_tiles(
    const float* output_grad, float* tiles, const Pass& pass) {
  const OwnLoopTimer timer;
  const int64_t count = pass.tiles();
  if (pass.block == 2) {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile)
      transform_output_gradient_tile<2>(output_grad, tiles, pass, tile);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t tile = 0; tile < count; ++tile)
      transform_output_gradient_tile<4>(output_grad, tiles, pass, tile);
  }
}

// U = G g G^T, written to u[position * stride].
template <int64_t M>
static void transform_filter(const float g[3][3], float* u, int64_t stride) {
  using Real = typename Transforms<M>::Real;
  constexpr int64_t T = M + 2;
  Real columns[T][3];  // G g
  for (int64_t j = 0; j < 3; ++j) {
    const Real column[3] = {g[0][j], g[1][j], g[2][j]};
    Real transformed[T];
    Transforms<M>::filter(column, transformed);
    for (int64_t i = 0; i < T; ++i) columns[i][j] = transformed[i];
  }
  for (int64_t i = 0; i < T; ++i) {
    Real transformed[T];
    Transforms<M>::filter(columns[i], transformed);
    for (int64_t j = 0; j < T; ++j) u[(i * T + j) * stride] = static_cast<float>(transformed[j]);
  }
}

// dg = G^T dU G, the gradient of transform_filter, dU read from du[position * stride].
template <int64_t M>
static void filter_gradient(const float* du, int64_t stride, float dg[3][3]) {
  using Real = typename Transforms<M>::Real;
  constexpr int64_t T = M + 2;
  Real rows[T][3];  // dU G
  for (int64_t i = 0; i < T; ++i) {
    Real row[T];
    for (int64_t j = 0; j < T; ++j) row[j] = du[(i * T + j) * stride];
    Transforms<M>::filter_gradient(row, rows[i]);
  }
  for (int64_t j = 0; j < 3; ++j) {
    Real column[T], result[3];
    for (int64_t i = 0; i < T; ++i) column[i] = rows[i][j];
    Transforms<M>::filter_gradient(column, result);
    for (int64_t i = 0; i < 3; ++i) dg[i][j] = static_cast<float>(result[i]);
  }
}

float* WinogradConvolution::transformed_filters(const float* weights,
                                                bool for_backward_data) const {
  const OwnLoopTimer timer;
  const int64_t channels = config_.input[1], out_channels = config_.out_channels;
  const int64_t pairs = channels * out_channels;
  auto* filters = static_cast<float*>(
      transient_buffer(TransientRole::winograd_filters,
                       static_cast<size_t>(forward_pass_.positions() * pairs) * sizeof(float)));
  const bool small_block = forward_pass_.block == 2;
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
      float* u = filters + row * columns + column;
      small_block ? transform_filter<2>(g, u, pairs) : transform_filter<4>(g, u, pairs);
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
  auto* filter_grads = static_cast<float*>(
      transient_buffer(TransientRole::winograd_filters,
                       static_cast<size_t>(forward_pass_.positions() * pairs) * sizeof(float)));
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
        const float* du = filter_grads + c * out_channels + o;
        pass.block == 2 ? filter_gradient<2>(du, pairs, dg) : filter_gradient<4>(du, pairs, dg);
        std::memcpy(weights_grad + (o * channels + c) * 9, dg, sizeof dg);
      }
  }
  if (bias_grad != nullptr) {
    sum_rows(gradient_rows, config_.input[0] * pass.out_height * pass.out_width, out_channels,
             bias_grad);
  }
}

}  // namespace convoy::kernels
