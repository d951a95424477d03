#include "framework/kernels/winograd_convolution.hpp"

#include <algorithm>
#include <cstring>

#include "framework/common/error.hpp"
#include "framework/kernels/context.hpp"
#include "framework/kernels/dnnl_context.hpp"
#include "framework/kernels/dnnl_memory.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "framework/kernels/winograd_tile_groups.hpp"
#include "framework/kernels/winograd_tiles.hpp"

namespace convoy::kernels {

using dnnl::memory;
using tag = memory::format_tag;
using Pass = WinogradConvolution::Pass;
using namespace winograd;

// The measured region (Zen 3, oneDNN 2.6 jit:avx2 against this path, forward + backward-data +
// backward-weights). Batched matmuls, a one-off probe: 64 channels on 8x8 at batch 128 0.57-0.64
// of the direct convolution's time, 128 on 16x16 0.65, 256 on 8x8 0.44, 512 on 4x4 0.54, 128 on
// 28x28 and 256 on 14x14 at batch 32 0.61 and 0.52; 32 channels on 16x16 took 1.25x and 16 on
// 32x32 2.1x (the transforms' memory traffic outweighs the matmuls' saving there). Tile groups
// (resnet20 on 28x28 at batch 64, 1 thread, side by side): 16 channels on 28x28 0.79, 32 on 14x14
// 0.73.
// AVX-512 (Zen 5, oneDNN 2.6 jit:avx512_core against this path's 16-float loops, 2 threads,
// batch 128, alternating rounds): batched matmuls, 64 channels on 32x32 0.60-0.75, 128 on
// 16x16 0.49-0.55, 256 on 8x8 0.40-0.49, 512 on 4x4 0.52-0.56 (resnet18's step 0.66), vgg11_bn's
// 0.38-0.68 (its step 0.63), resnet50's 3x3 layers 0.52-0.94 at batch 32; tile groups, 32
// channels on 16x16 0.58-0.74, but 16 on 32x32 0.89-1.05 (1 thread on 28x28: 0.98-1.14), so
// there they start at 32 channels.
static constexpr int64_t kMinChannels = 16;
static constexpr int64_t kMinChannelsAvx512 = 32;
// bf16 (Zen 5, oneDNN 2.6 jit_bf16:avx512_core_bf16 against this path with 2x2 blocks on bf16
// operands and bf16 maps, 2 threads, A B B A rounds, forward + backward): resnet18 b128, 512
// channels on 4x4 0.68-0.70, 256 on 8x8 0.65-0.68, 128 on 16x16 0.91-0.94, 64 on 32x32 1.13-1.15;
// vgg11_bn b128 0.49-0.83 (256 and 512 channels; its step 1.43x faster); resnet50 b32, 256 on
// 14x14 0.74-0.83, 512 on 7x7 0.78-0.94, but 128 on 28x28 0.98-1.12. So from 256 channels, and
// from 128 on maps up to 16x16.
// Below 128 channels (AVX-512's tile groups, f32 tiles and sums between bf16 maps, 4x4 blocks
// where they fit), against the same primitives, --winograd always against auto: resnet18 b128,
// 64 channels on 32x32 0.72-0.76 (its step 1.17x faster); resnet20 b128, 64 on 8x8 and 7x7
// 0.83-0.93, but 32 channels 0.94-1.14 and 16 1.32-1.53. So from 64 channels.
static constexpr int64_t kMinChannelsBf16TileGroups = 64;
static constexpr int64_t kMinChannelsBf16 = 256;
static constexpr int64_t kMinChannelsBf16SmallMaps = 128;
static constexpr int64_t kSmallMapPositions = 16 * 16;
// From here (in and out) the batched matmuls run near oneDNN's peak and the tile groups gain
// nothing. AVX2 (Zen 3): 64 channels the same time, 256 and 512 on 8x8 and 4x4 1.2x and 2.2x
// slower. AVX-512 (Zen 5, 2 threads, --winograd-groups always against never, A B B A): the tile
// groups' 32-channel steps take 64 channels in 0.64-0.73 of the batched time (resnet18 on 32x32),
// 0.80-0.89 (resnet50 on 56x56), 0.70-0.76 (resnet20 on 7x7) and vgg11_bn's 64 -> 128 on 16x16
// in 0.91; but 128 on 28x28 1.10-1.23 (resnet50), 128 -> 256 on 8x8 1.23 (vgg11_bn), 256 and 512
// 1.05-2.8: their transformed filters (2.4 MB and more for F(4x4)) no longer stay in L2.
static constexpr int64_t kBatchedMinChannels = 64;
static constexpr int64_t kBatchedMinChannelsAvx512 = 128;
// The batch runs in equal chunks of images whose tiles fill at most this much of a buffer (the
// whole batch where it fits): large maps then need no more memory than small ones, and a
// chunk's tiles are still thousands of matmul rows.
static constexpr size_t kChunkTileBytes = size_t{32} << 20;

static bool supported(const ConvolutionConfig& c) {
  return c.kernel_h == 3 && c.kernel_w == 3 && c.stride_h == 1 && c.stride_w == 1 &&
         c.dilation_h == 1 && c.dilation_w == 1 && c.groups == 1 && c.padding_h <= 2 &&
         c.padding_w <= 2;
}

// A bf16 layer's tiles and filters are rounded to bf16 for bf16 matmuls with 2x2 blocks only.
// Measured on 64 channels on 8x8 (MixedPrecisionTest): with 2x2 blocks the results stay within
// 1.7-2.2x the bf16 convolution primitives' error against f32 (0.46 % against 0.21-0.27 %,
// relative), but 4x4 blocks' transforms, which multiply by up to 8 and take differences of
// such products, reach 10x (2.7 %). With 4x4 blocks a bf16 layer's Winograd runs in f32
// inside, its transforms reading and writing the bf16 maps.
// The tile groups' own kernel multiplies floats: a bf16 layer's tile groups run f32 inside.
static bool uses_bf16_operands(const ConvolutionConfig& c, int64_t block, bool tile_groups) {
  return c.compute_type == DataType::bf16 && block == 2 && !tile_groups;
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
// (36 values per 4x4 block) hold at most a share of the 2x2 blocks' (16 values per 2x2 block) for
// this map, else 2x2. The batched matmuls' share is 0.6: 4x4 where the map is not much cut by
// 4x4 blocks (4k - 1 or 4k wide: 7, 8, 28, 32, 56; not 6 or 14). Measured (Zen 3, forward + both
// backward passes, --winograd-tile 4 against 2 side by side): resnet18 b128 on 32x32 0.69 of the
// step, vgg11_bn b128 0.88, resnet20's 64-channel layers on 7x7 0.84; resnet50's 14x14 layers
// measured no faster. The tile groups' share is 0.75: their few channels make the transforms, which
// 4x4 blocks run fewer of per output, a larger part of the time; resnet20's 32-channel layers on
// 14x14 (a share of 0.73) took 0.88 of their 2x2 time with 4x4 blocks (b64, 1 thread, 7 rounds).
struct Share {
  int64_t numerator, denominator;
};
static constexpr Share kBatchedShare{6, 10}, kTileGroupShare{3, 4};

static int64_t automatic_block(const ConvolutionConfig& c, bool tile_groups) {
  // bf16 matmuls only with 2x2 blocks (uses_bf16_operands).
  if (c.compute_type == DataType::bf16 && !tile_groups) return 2;
  const Shape output = c.output_shape();
  auto values = [&](int64_t block) {
    const int64_t tiles = ((output[2] + block - 1) / block) * ((output[3] + block - 1) / block);
    return tiles * (block + 2) * (block + 2);
  };
  const Share share = tile_groups ? kTileGroupShare : kBatchedShare;
  return share.denominator * values(4) <= share.numerator * values(2) ? 4 : 2;
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

// Where the tile-group schedule runs instead of the batched matmuls: layers with few channels,
// whose matmuls are too short for oneDNN's to run near peak.
static bool tile_groups_preferred(const ConvolutionConfig& c) {
  const int64_t batched_from =
      wide_lanes_in_use() ? kBatchedMinChannelsAvx512 : kBatchedMinChannels;
  return c.input[1] < batched_from || c.out_channels < batched_from;
}

// bf16 layers' smallest channel count: the tile groups' (f32 inside) from 64, the batched bf16
// matmuls' from 256, or 128 on small maps.
static int64_t bf16_min_channels(const ConvolutionConfig& c) {
  if (tile_groups_preferred(c)) return kMinChannelsBf16TileGroups;
  const Shape output = c.output_shape();
  return output[2] * output[3] <= kSmallMapPositions ? kMinChannelsBf16SmallMaps : kMinChannelsBf16;
}

bool WinogradConvolution::preferred(const ConvolutionConfig& config, const std::string& primitive) {
  const int64_t min_channels = primitive == "jit:avx2"          ? kMinChannels
                               : primitive == "jit:avx512_core" ? kMinChannelsAvx512
                               : primitive == "jit_bf16:avx512_core_bf16"
                                   ? bf16_min_channels(config)
                                   : 0;
  return min_channels > 0 && supported(config) && config.input[1] >= min_channels &&
         config.out_channels >= min_channels;
}

std::unique_ptr<WinogradConvolution> WinogradConvolution::create(const ConvolutionConfig& config) {
  const auto& c = config;
  if (!supported(c)) return nullptr;
  const bool tile_groups =
      c.paths.winograd_tile_groups == LoweringChoice::always ||
      (c.paths.winograd_tile_groups == LoweringChoice::automatic && tile_groups_preferred(c));
  const int64_t block =
      c.paths.winograd_tile != 0 ? c.paths.winograd_tile : automatic_block(c, tile_groups);
  if (block != 2 && block != 4) {
    throw ConfigError("Winograd output blocks are 2x2 or 4x4, got " + std::to_string(block));
  }
  Pass forward = forward_pass(c, block), backward = backward_data_pass(c, block);
  std::unique_ptr<WinogradConvolution> created(new WinogradConvolution);
  auto& lowered = *created;
  lowered.config_ = c;
  // The maps in the layer's compute type: a bf16 layer's transforms read and write bf16.
  const auto map_type = to_dnnl(c.compute_type);
  lowered.source_rows_ = memory::desc(to_dnnl_dims(c.input), map_type, tag::nhwc);
  lowered.destination_rows_ = memory::desc(to_dnnl_dims(c.output_shape()), map_type, tag::nhwc);
  const std::string name =
      "winograd F(" + std::to_string(block) + "x" + std::to_string(block) + ",3x3) ";
  if (tile_groups) {
    lowered.forward_pass_ = forward;  // the whole batch, group by group
    lowered.backward_data_pass_ = backward;
    lowered.group_ = tiles_per_group(forward);  // the same for backward: C and O swapped
    lowered.implementation_ = name + "in groups of " + std::to_string(lowered.group_) + " tiles";
    return created;
  }
  const int64_t images = images_per_chunk(forward, backward);
  forward.batch = backward.batch = images;  // both passes run chunk by chunk
  lowered.forward_pass_ = forward;
  lowered.backward_data_pass_ = backward;
  lowered.chunks_ = c.input[0] / images;
  const int64_t channels = c.input[1], out_channels = c.out_channels;
  // The matmuls' operands (tiles, transformed filters) in the compute type; their products and
  // the filter gradients in f32.
  const auto operand =
      uses_bf16_operands(c, block, tile_groups) ? memory::data_type::bf16 : memory::data_type::f32;
  auto matrices = [&](int64_t rows, int64_t columns,
                      memory::data_type type = memory::data_type::f32, tag order = tag::abc) {
    return memory::desc({forward.positions(), rows, columns}, type, order);
  };
  lowered.forward_tiles_ = matrices(forward.tiles(), channels, operand);
  lowered.forward_filters_ = matrices(channels, out_channels, operand);
  lowered.forward_products_ = matrices(forward.tiles(), out_channels);
  lowered.gradient_tiles_ = matrices(forward.tiles(), out_channels, operand);
  lowered.backward_tiles_ = matrices(backward.tiles(), out_channels, operand);
  lowered.backward_filters_ = matrices(out_channels, channels, operand);
  lowered.backward_products_ = matrices(backward.tiles(), channels);
  lowered.tiles_transposed_ = matrices(channels, forward.tiles(), operand, tag::acb);
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
        const dnnl::matmul::desc weights_desc(lowered.tiles_transposed_, lowered.gradient_tiles_,
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
            name + "matmul (" + std::string(forward_product.impl_info_str()) + ")";
        if (lowered.chunks_ > 1) {
          lowered.implementation_ += " in " + std::to_string(lowered.chunks_) + " chunks";
        }
        return true;
      });
  if (!built) return nullptr;
  return created;
}

std::string WinogradConvolution::implementation() const { return implementation_; }

// The batched schedule's tile buffers hold the whole chunk's tiles as [position][tile][channel]:
// tile t's position p of `channels` channels at (p * tiles + t) * channels.
// The batched schedule's three tile transforms, each over every tile of a chunk: `from` the map
// (input, output gradient) or the products, `to` the tile buffer or the map.
enum class TileTransform { input, output, output_gradient };
struct TileTransformArguments {
  const void* from;  // a map (input, output gradient) or the products (float)
  void* to;          // the tiles or a map
  const float* bias;
  bool relu;
  bool bf16_maps;   // the maps hold bf16, else float
  bool bf16_tiles;  // the tiles hold bf16 (rounded for bf16 matmuls), else float
};

template <int64_t M, class Vector, class Map, class Tile>
[[gnu::always_inline]] inline void transform_tile(TileTransform which,
                                                  const TileTransformArguments& a, const Pass& pass,
                                                  int64_t tile) {
  const int64_t count = pass.tiles();
  switch (which) {
    case TileTransform::input:  // V = B^T d B, zero outside the map
      return transform_input_tile<M, Vector>(static_cast<const Map*>(a.from), pass, tile,
                                             static_cast<Tile*>(a.to) + tile * pass.in_channels,
                                             count * pass.in_channels);
    case TileTransform::output:  // A^T M A (+ bias, then ReLU); beyond the map dropped
      return transform_output_tile<M, Vector>(
          static_cast<const float*>(a.from) + tile * pass.out_channels, count * pass.out_channels,
          static_cast<Map*>(a.to), a.bias, a.relu, pass, tile);
    case TileTransform::output_gradient:  // dM = A dY A^T, zero beyond the map
      return transform_output_gradient_tile<M, Vector>(
          static_cast<const Map*>(a.from), pass, tile,
          static_cast<Tile*>(a.to) + tile * pass.out_channels, count * pass.out_channels);
  }
}

template <int64_t M, class Vector>
[[gnu::always_inline]] inline void transform_tile(TileTransform which,
                                                  const TileTransformArguments& a, const Pass& pass,
                                                  int64_t tile) {
  if (a.bf16_maps) {
    if (a.bf16_tiles) return transform_tile<M, Vector, Bfloat16, Bfloat16>(which, a, pass, tile);
    return transform_tile<M, Vector, Bfloat16, float>(which, a, pass, tile);
  }
  if (a.bf16_tiles) return transform_tile<M, Vector, float, Bfloat16>(which, a, pass, tile);
  transform_tile<M, Vector, float, float>(which, a, pass, tile);
}

template <class Vector>
[[gnu::always_inline]] inline void transform_tile(TileTransform which,
                                                  const TileTransformArguments& a, const Pass& pass,
                                                  int64_t tile) {
  if (pass.block == 2) {
    transform_tile<2, Vector>(which, a, pass, tile);
  } else {
    transform_tile<4, Vector>(which, a, pass, tile);
  }
}

// The OpenMP regions sit in the functions compiled for each target, so each outlined region is
// compiled for its function's target.
__attribute__((target_clones("avx2", "default"))) static void transform_every_tile_on_lanes(
    TileTransform which, const TileTransformArguments& arguments, const Pass& pass) {
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < pass.tiles(); ++tile)
    transform_tile<Lanes>(which, arguments, pass, tile);
}

__attribute__((target("arch=x86-64-v4"))) static void transform_every_tile_on_wide_lanes(
    TileTransform which, const TileTransformArguments& arguments, const Pass& pass) {
#pragma omp parallel for schedule(static)
  for (int64_t tile = 0; tile < pass.tiles(); ++tile)
    transform_tile<WideLanes>(which, arguments, pass, tile);
}

static void transform_every_tile(TileTransform which, const TileTransformArguments& arguments,
                                 const Pass& pass) {
  const OwnLoopTimer timer;
  if (wide_lanes_in_use()) {
    transform_every_tile_on_wide_lanes(which, arguments, pass);
  } else {
    transform_every_tile_on_lanes(which, arguments, pass);
  }
}

void WinogradConvolution::transform_input_tiles(const MapView& input, int64_t chunk, void* tiles,
                                                const Pass& pass) const {
  transform_every_tile(
      TileTransform::input,
      {input.image(chunk * pass.batch, pass.in_height * pass.in_width * pass.in_channels), tiles,
       nullptr, false, input.bf16, bf16_operands()},
      pass);
}
void WinogradConvolution::transform_output_tiles(const float* products, const MapView& output,
                                                 int64_t chunk, const float* bias, bool relu,
                                                 const Pass& pass) const {
  transform_every_tile(
      TileTransform::output,
      {products,
       output.image(chunk * pass.batch, pass.out_height * pass.out_width * pass.out_channels), bias,
       relu, output.bf16, false},
      pass);
}
void WinogradConvolution::transform_output_gradient_tiles(const MapView& output_grad, int64_t chunk,
                                                          void* tiles, const Pass& pass) const {
  transform_every_tile(
      TileTransform::output_gradient,
      {output_grad.image(chunk * pass.batch, pass.out_height * pass.out_width * pass.out_channels),
       tiles, nullptr, false, output_grad.bf16, bf16_operands()},
      pass);
}

// The filters' transforms U = G g G^T as (C, O) matrices per position, or for backward-data
// (O, C) matrices of the filters rotated by 180 degrees. A lane's worth of columns at a time, so
// each position's writes are contiguous; `columns` does not need to be a multiple of the lanes.
template <int64_t M, class Value, class Filter>
[[gnu::always_inline]] inline void transform_filter_columns(const float* weights, int64_t channels,
                                                            int64_t row, int64_t column,
                                                            int64_t columns, bool for_backward_data,
                                                            Filter* filters, int64_t pairs) {
  constexpr int64_t T = M + 2;
  constexpr int64_t width = sizeof(Value) / sizeof(typename Transforms<M>::Real);
  Value g[3][3];
  for (int64_t lane = 0; lane < width; ++lane) {
    const int64_t o = for_backward_data ? row : column + lane;
    const int64_t c = for_backward_data ? column + lane : row;
    const float* w = weights + (o * channels + c) * 9;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j) {
        const float value = for_backward_data ? w[8 - (i * 3 + j)] : w[i * 3 + j];
        if constexpr (width == 1) {
          g[i][j] = value;
        } else {
          g[i][j][lane] = value;
        }
      }
  }
  Value u[T][T];
  transform_filter<M>(g, u);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j)
      store_reals(filters + (i * T + j) * pairs + row * columns + column, u[i][j]);
}

// One row of transform_filters: its columns a lane's worth at a time, then one at a time.
template <int64_t M, class Filter>
[[gnu::always_inline]] inline void transform_filter_row(const float* weights, int64_t channels,
                                                        int64_t out_channels, int64_t row,
                                                        bool for_backward_data, Filter* filters) {
  const int64_t columns = for_backward_data ? channels : out_channels;
  const int64_t pairs = channels * out_channels;
  int64_t column = 0;
  for (; column + kRealLaneWidth<M> <= columns; column += kRealLaneWidth<M>)
    transform_filter_columns<M, typename Transforms<M>::RealLanes>(
        weights, channels, row, column, columns, for_backward_data, filters, pairs);
  for (; column < columns; ++column)
    transform_filter_columns<M, typename Transforms<M>::Real>(weights, channels, row, column,
                                                              columns, for_backward_data, filters,
                                                              pairs);
}

template <class Filter>
[[gnu::always_inline]] inline void transform_filter_row(const float* weights, int64_t channels,
                                                        int64_t out_channels, int64_t block,
                                                        int64_t row, bool for_backward_data,
                                                        Filter* filters) {
  if (block == 2) {
    transform_filter_row<2>(weights, channels, out_channels, row, for_backward_data, filters);
  } else {
    transform_filter_row<4>(weights, channels, out_channels, row, for_backward_data, filters);
  }
}

// The transformed filters as floats or (bf16) rounded to bf16, for the matmuls' operand type.
// The parallel loop sits here, in the target_clones function, not in an always-inlined helper:
// GCC outlines a parallel region before it inlines, so a region inside a helper would be
// compiled for the baseline target (SSE2) only, whichever clone called it
// (scripts/check_openmp_regions.py checks this).
__attribute__((target_clones("avx2", "default"))) static void transform_filters(
    const float* weights, int64_t channels, int64_t out_channels, int64_t block,
    bool for_backward_data, bool bf16, void* filters) {
  const int64_t rows = for_backward_data ? out_channels : channels;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    if (bf16) {
      transform_filter_row(weights, channels, out_channels, block, row, for_backward_data,
                           static_cast<Bfloat16*>(filters));
    } else {
      transform_filter_row(weights, channels, out_channels, block, row, for_backward_data,
                           static_cast<float*>(filters));
    }
  }
}

void* WinogradConvolution::transformed_filters(const float* weights, bool for_backward_data) const {
  const OwnLoopTimer timer;
  const int64_t channels = config_.input[1], out_channels = config_.out_channels;
  const bool bf16 = bf16_operands();
  void* filters =
      transient_buffer(TransientRole::winograd_filters,
                       static_cast<size_t>(forward_pass_.positions() * channels * out_channels) *
                           element_bytes(bf16));
  transform_filters(weights, channels, out_channels, forward_pass_.block, for_backward_data, bf16,
                    filters);
  return filters;
}

bool WinogradConvolution::bf16_operands() const {
  return uses_bf16_operands(config_, forward_pass_.block, group_ > 0);
}

// The filter gradient dg = G^T dU G from dU's (C, O) matrices per position, a lane's worth of
// output channels at a time (contiguous in dU).
template <int64_t M, class Value>
[[gnu::always_inline]] inline void filter_gradient_columns(const float* filter_grads,
                                                           int64_t channels, int64_t out_channels,
                                                           int64_t c, int64_t o,
                                                           float* weights_grad) {
  constexpr int64_t T = M + 2;
  constexpr int64_t width = sizeof(Value) / sizeof(typename Transforms<M>::Real);
  const int64_t pairs = channels * out_channels;
  Value du[T][T], dg[3][3];
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j)
      load_reals(filter_grads + (i * T + j) * pairs + c * out_channels + o, du[i][j]);
  filter_gradient<M>(du, dg);
  for (int64_t lane = 0; lane < width; ++lane) {
    float* w = weights_grad + ((o + lane) * channels + c) * 9;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j) {
        if constexpr (width == 1) {
          w[i * 3 + j] = static_cast<float>(dg[i][j]);
        } else {
          w[i * 3 + j] = static_cast<float>(dg[i][j][lane]);
        }
      }
  }
}

// One input channel's row of filter_gradients: a lane's worth of output channels at a time,
// then one at a time.
template <int64_t M>
[[gnu::always_inline]] inline void filter_gradient_row(const float* filter_grads, int64_t channels,
                                                       int64_t out_channels, int64_t c,
                                                       float* weights_grad) {
  int64_t o = 0;
  for (; o + kRealLaneWidth<M> <= out_channels; o += kRealLaneWidth<M>)
    filter_gradient_columns<M, typename Transforms<M>::RealLanes>(filter_grads, channels,
                                                                  out_channels, c, o, weights_grad);
  for (; o < out_channels; ++o)
    filter_gradient_columns<M, typename Transforms<M>::Real>(filter_grads, channels, out_channels,
                                                             c, o, weights_grad);
}

// The parallel loop in the target_clones function itself, as in transform_filters.
__attribute__((target_clones("avx2", "default"))) static void filter_gradients(
    const float* filter_grads, int64_t channels, int64_t out_channels, int64_t block,
    float* weights_grad) {
  const OwnLoopTimer timer;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < channels; ++c) {
    if (block == 2) {
      filter_gradient_row<2>(filter_grads, channels, out_channels, c, weights_grad);
    } else {
      filter_gradient_row<4>(filter_grads, channels, out_channels, c, weights_grad);
    }
  }
}

void WinogradConvolution::batched_filter_gradients(const MapView& input, const MapView& output_grad,
                                                   float* filter_grads) {
  const Pass& pass = forward_pass_;
  void* tiles = transient_buffer(TransientRole::winograd_input_tiles, forward_tiles_.get_size());
  void* gradient_tiles =
      transient_buffer(TransientRole::winograd_output_tiles, gradient_tiles_.get_size());
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(input, chunk, tiles, pass);
    transform_output_gradient_tiles(output_grad, chunk, gradient_tiles, pass);
    execute(chunk == 0 ? backward_weights_ : backward_weights_sum_,
            {{DNNL_ARG_SRC, view_as(tiles_transposed_, tiles)},
             {DNNL_ARG_WEIGHTS, view_as(gradient_tiles_, gradient_tiles)},
             {DNNL_ARG_DST, view_as(filter_gradients_, filter_grads)}});
  }
}

// The tile-group schedule's scratch: `floats_per_thread` for each thread, in the shared buffer
// the batched schedule keeps its input tiles in.
static float* scratch(size_t floats_per_thread) {
  return static_cast<float*>(
      transient_buffer(TransientRole::winograd_input_tiles,
                       static_cast<size_t>(thread_count()) * floats_per_thread * sizeof(float)));
}

// The map behind an NHWC memory of the layer's compute type (bf16 maps only in bf16 layers).
static MapView map_of(const memory& rows) {
  return {rows.get_data_handle(), rows.get_desc().data_type() == memory::data_type::bf16};
}

void WinogradConvolution::forward(const memory& source, const float* weights, const float* bias,
                                  const memory& destination) {
  const Pass& pass = forward_pass_;
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  auto result =
      target_in_layout(destination, destination_rows_, TransientRole::lowered_output_rows);
  if (group_ > 0) {
    convolve_by_tile_groups(map_of(input), static_cast<float*>(transformed_filters(weights, false)),
                            map_of(result), bias, config_.fuse_relu, pass, group_,
                            scratch(convolution_scratch_floats(pass, group_)));
    deliver(result, destination);
    return;
  }
  void* tiles = transient_buffer(TransientRole::winograd_input_tiles, forward_tiles_.get_size());
  auto* products = static_cast<float*>(
      transient_buffer(TransientRole::winograd_output_tiles, forward_products_.get_size()));
  const auto filters = view_as(forward_filters_, transformed_filters(weights, false));
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(map_of(input), chunk, tiles, pass);
    execute(forward_, {{DNNL_ARG_SRC, view_as(forward_tiles_, tiles)},
                       {DNNL_ARG_WEIGHTS, filters},
                       {DNNL_ARG_DST, view_as(forward_products_, products)}});
    transform_output_tiles(products, map_of(result), chunk, bias, config_.fuse_relu, pass);
  }
  deliver(result, destination);
}

void WinogradConvolution::backward_data(const memory& destination_grad, const float* weights,
                                        const memory& source_grad) {
  const Pass& pass = backward_data_pass_;
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  auto result = target_in_layout(source_grad, source_rows_, TransientRole::lowered_input_rows);
  if (group_ > 0) {
    convolve_by_tile_groups(
        map_of(gradient), static_cast<float*>(transformed_filters(weights, true)), map_of(result),
        nullptr, false, pass, group_, scratch(convolution_scratch_floats(pass, group_)));
    deliver(result, source_grad);
    return;
  }
  void* tiles = transient_buffer(TransientRole::winograd_input_tiles, backward_tiles_.get_size());
  auto* products = static_cast<float*>(
      transient_buffer(TransientRole::winograd_output_tiles, backward_products_.get_size()));
  const auto filters = view_as(backward_filters_, transformed_filters(weights, true));
  for (int64_t chunk = 0; chunk < chunks_; ++chunk) {
    transform_input_tiles(map_of(gradient), chunk, tiles, pass);
    execute(backward_data_, {{DNNL_ARG_SRC, view_as(backward_tiles_, tiles)},
                             {DNNL_ARG_WEIGHTS, filters},
                             {DNNL_ARG_DST, view_as(backward_products_, products)}});
    transform_output_tiles(products, map_of(result), chunk, nullptr, false, pass);
  }
  deliver(result, source_grad);
}

void WinogradConvolution::backward_weights(const memory& source, const memory& destination_grad,
                                           float* weights_grad, float* bias_grad) {
  const Pass& pass = forward_pass_;
  const auto input =
      reorder_into_transient_if_needed(source, source_rows_, TransientRole::lowered_input_rows);
  const auto gradient = reorder_into_transient_if_needed(destination_grad, destination_rows_,
                                                         TransientRole::lowered_output_rows);
  const int64_t channels = config_.input[1], out_channels = config_.out_channels;
  const int64_t pairs = channels * out_channels;
  auto* filter_grads = static_cast<float*>(
      transient_buffer(TransientRole::winograd_filters,
                       static_cast<size_t>(forward_pass_.positions() * pairs) * sizeof(float)));
  if (group_ > 0) {
    filter_gradients_by_tile_groups(map_of(input), map_of(gradient), filter_grads, pass, group_,
                                    scratch(filter_gradient_scratch_floats(pass, group_)));
  } else {
    batched_filter_gradients(map_of(input), map_of(gradient), filter_grads);
  }
  filter_gradients(filter_grads, channels, out_channels, pass.block, weights_grad);
  if (bias_grad != nullptr) {
    const int64_t rows = config_.input[0] * pass.out_height * pass.out_width;
    const MapView rows_of_gradient = map_of(gradient);
    if (rows_of_gradient.bf16) {
      sum_rows(static_cast<const Bfloat16*>(rows_of_gradient.data), rows, out_channels, bias_grad);
    } else {
      sum_rows(static_cast<const float*>(rows_of_gradient.data), rows, out_channels, bias_grad);
    }
  }
}

}  // namespace convoy::kernels
