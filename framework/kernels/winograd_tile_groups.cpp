#include "framework/kernels/winograd_tile_groups.hpp"

#include <omp.h>

#include <algorithm>

#include "framework/kernels/context.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "framework/kernels/winograd_tiles.hpp"

// This file is compiled with -ffp-contract=fast (CMakeLists.txt): in the x86-64-v3 clones below,
// a * b + c becomes one fused multiply-add.

namespace convoy::kernels::winograd {

// One group's transformed tiles and products together: a fraction of a 512 KB L2 (Zen 3/4), so
// the transformed filters and the maps' rows being read stay cached beside them.
static constexpr int64_t kGroupBytes = 160 << 10;
static constexpr int64_t kRows = 6;  // tiles (or filter-gradient rows) per kernel step
// Channels per kernel step: two vectors (16 with Lanes, 32 with WideLanes).
template <class Vector>
inline constexpr int64_t kColumns = 2 * lane_width<Vector>;

int64_t tiles_per_group(const Pass& pass) {
  const int64_t bytes_per_tile =
      pass.positions() * (pass.in_channels + pass.out_channels) * int64_t{sizeof(float)};
  return std::max(kRows, kGroupBytes / bytes_per_tile / kRows * kRows);
}

size_t convolution_scratch_floats(const Pass& pass, int64_t group) {
  return static_cast<size_t>(pass.positions() * group * (pass.in_channels + pass.out_channels));
}

size_t filter_gradient_scratch_floats(const Pass& pass, int64_t group) {
  return convolution_scratch_floats(pass, group) +
         static_cast<size_t>(pass.positions() * pass.in_channels * pass.out_channels);
}

// c[R][W L] = (accumulate ? c : 0) + the sum over k < depth of a(r, k) b[k][W L], where
// a(r, k) = a[r * a_row + k * a_depth] and W is the Vector's width: the sums for R rows and W L
// columns held in registers.
template <int64_t R, int64_t L, class Vector>
[[gnu::always_inline]] inline void multiply_block(const float* a, int64_t a_row, int64_t a_depth,
                                                  const float* b, int64_t b_row, float* c,
                                                  int64_t c_row, int64_t depth, bool accumulate) {
  constexpr int64_t W = lane_width<Vector>;
  Vector sums[R][L];
#pragma GCC unroll 8
  for (int64_t r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int64_t l = 0; l < L; ++l)
      sums[r][l] = accumulate ? load<Vector>(c + r * c_row + l * W) : Vector{};
  for (int64_t k = 0; k < depth; ++k) {
    Vector columns[L];
#pragma GCC unroll 2
    for (int64_t l = 0; l < L; ++l) columns[l] = load<Vector>(b + k * b_row + l * W);
#pragma GCC unroll 8
    for (int64_t r = 0; r < R; ++r) {
      const Vector row = broadcast<Vector>(a[r * a_row + k * a_depth]);
#pragma GCC unroll 2
      for (int64_t l = 0; l < L; ++l) sums[r][l] += row * columns[l];
    }
  }
#pragma GCC unroll 8
  for (int64_t r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int64_t l = 0; l < L; ++l) store(c + r * c_row + l * W, sums[r][l]);
}

// multiply_block for `rows` (< kRows) rows.
template <int64_t L, class Vector>
[[gnu::always_inline]] inline void multiply_rows(int64_t rows, const float* a, int64_t a_row,
                                                 int64_t a_depth, const float* b, int64_t b_row,
                                                 float* c, int64_t c_row, int64_t depth,
                                                 bool accumulate) {
  switch (rows) {
    case 1:
      return multiply_block<1, L, Vector>(a, a_row, a_depth, b, b_row, c, c_row, depth, accumulate);
    case 2:
      return multiply_block<2, L, Vector>(a, a_row, a_depth, b, b_row, c, c_row, depth, accumulate);
    case 3:
      return multiply_block<3, L, Vector>(a, a_row, a_depth, b, b_row, c, c_row, depth, accumulate);
    case 4:
      return multiply_block<4, L, Vector>(a, a_row, a_depth, b, b_row, c, c_row, depth, accumulate);
    case 5:
      return multiply_block<5, L, Vector>(a, a_row, a_depth, b, b_row, c, c_row, depth, accumulate);
    default:
      return;
  }
}

// Columns [column, columns) of c, as far as whole Vectors reach (two at a time where they can):
// returns the first column left.
template <class Vector>
[[gnu::always_inline]] inline int64_t multiply_columns(const float* a, int64_t a_row,
                                                       int64_t a_depth, const float* b,
                                                       int64_t b_row, float* c, int64_t c_row,
                                                       int64_t rows, int64_t depth, int64_t column,
                                                       int64_t columns, bool accumulate) {
  constexpr int64_t W = lane_width<Vector>;
  while (column + W <= columns) {
    const bool wide = column + kColumns<Vector> <= columns;
    int64_t row = 0;
    for (; row + kRows <= rows; row += kRows) {
      const float* a_rows = a + row * a_row;
      float* c_block = c + row * c_row + column;
      if (wide) {
        multiply_block<kRows, 2, Vector>(a_rows, a_row, a_depth, b + column, b_row, c_block, c_row,
                                         depth, accumulate);
      } else {
        multiply_block<kRows, 1, Vector>(a_rows, a_row, a_depth, b + column, b_row, c_block, c_row,
                                         depth, accumulate);
      }
    }
    const float* a_rows = a + row * a_row;
    float* c_block = c + row * c_row + column;
    if (wide) {
      multiply_rows<2, Vector>(rows - row, a_rows, a_row, a_depth, b + column, b_row, c_block,
                               c_row, depth, accumulate);
    } else {
      multiply_rows<1, Vector>(rows - row, a_rows, a_row, a_depth, b + column, b_row, c_block,
                               c_row, depth, accumulate);
    }
    column += wide ? kColumns<Vector> : W;
  }
  return column;
}

// c (rows x columns, row stride c_row) = (accumulate ? c : 0) + a (rows x depth, element (r, k)
// at a[r * a_row + k * a_depth]) times b (depth x columns, row stride b_row). Every column's sum
// runs over k in the same order whatever the Vector, so WideLanes and Lanes give the same bits.
template <class Vector>
[[gnu::always_inline]] inline void multiply(const float* a, int64_t a_row, int64_t a_depth,
                                            const float* b, int64_t b_row, float* c, int64_t c_row,
                                            int64_t rows, int64_t depth, int64_t columns,
                                            bool accumulate) {
  int64_t column = multiply_columns<Vector>(a, a_row, a_depth, b, b_row, c, c_row, rows, depth, 0,
                                            columns, accumulate);
  if constexpr (lane_width < Vector >> kLaneWidth) {
    column = multiply_columns<Lanes>(a, a_row, a_depth, b, b_row, c, c_row, rows, depth, column,
                                     columns, accumulate);
  }
  // Channel counts that are not a multiple of 8: the last columns one at a time.
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t tail = column; tail < columns; ++tail) {
      float sum = accumulate ? c[row * c_row + tail] : 0.0f;
      for (int64_t k = 0; k < depth; ++k) sum += a[row * a_row + k * a_depth] * b[k * b_row + tail];
      c[row * c_row + tail] = sum;
    }
}

// The tiles of group `index`: the first tile and how many.
struct Group {
  int64_t first, size;
};
static int64_t group_count(const Pass& pass, int64_t group) {
  return (pass.tiles() + group - 1) / group;
}
static Group group_of(int64_t index, int64_t group, const Pass& pass) {
  const int64_t first = index * group;
  return {first, std::min(group, pass.tiles() - first)};
}

// One group of the convolution: transform its tiles, sum over channels per position, transform
// the products back into output blocks. Position p of tile t sits at tiles[(p * size + t) * C]:
// each position's sum is one (size x C) x (C x O) product.
template <int64_t M, class Vector, class Map>
[[gnu::always_inline]] inline void convolve_group(const Map* input, const float* filters,
                                                  Map* output, const float* bias, bool relu,
                                                  const Pass& pass, Group group, float* tiles,
                                                  float* products) {
  const int64_t positions = pass.positions(), channels = pass.in_channels;
  const int64_t out_channels = pass.out_channels;
  const auto [first, size] = group;
  for (int64_t t = 0; t < size; ++t)
    transform_input_tile<M, Vector>(input, pass, first + t, tiles + t * channels, size * channels);
  for (int64_t p = 0; p < positions; ++p)
    multiply<Vector>(tiles + p * size * channels, channels, 1,
                     filters + p * channels * out_channels, out_channels,
                     products + p * size * out_channels, out_channels, size, channels, out_channels,
                     false);
  for (int64_t t = 0; t < size; ++t)
    transform_output_tile<M, Vector>(products + t * out_channels, size * out_channels, output, bias,
                                     relu, pass, first + t);
}

// One thread's share of convolve_by_tile_groups, called inside its parallel region: the groups
// of a static schedule.
template <class Vector, class Map>
[[gnu::always_inline]] inline void convolve_share(const Map* input, const float* filters,
                                                  Map* output, const float* bias, bool relu,
                                                  const Pass& pass, int64_t group, float* scratch) {
  const int64_t groups = group_count(pass, group);
  float* tiles = scratch + omp_get_thread_num() * convolution_scratch_floats(pass, group);
  float* products = tiles + pass.positions() * group * pass.in_channels;
#pragma omp for schedule(static)
  for (int64_t index = 0; index < groups; ++index) {
    const Group tiles_of_group = group_of(index, group, pass);
    if (pass.block == 2) {
      convolve_group<2, Vector, Map>(input, filters, output, bias, relu, pass, tiles_of_group,
                                     tiles, products);
    } else {
      convolve_group<4, Vector, Map>(input, filters, output, bias, relu, pass, tiles_of_group,
                                     tiles, products);
    }
  }
}

// One group's share of the filter gradient: dU[p] += V[p]^T dM[p], V the input tiles and dM the
// output-gradient tiles; the rows of each product are input channels, its sum runs over the
// group's tiles.
template <int64_t M, class Vector, class Map>
[[gnu::always_inline]] inline void filter_gradient_group(const Map* input, const Map* output_grad,
                                                         float* sums, const Pass& pass, Group group,
                                                         float* tiles, float* gradient_tiles) {
  const int64_t positions = pass.positions(), channels = pass.in_channels;
  const int64_t out_channels = pass.out_channels;
  const auto [first, size] = group;
  for (int64_t t = 0; t < size; ++t) {
    transform_input_tile<M, Vector>(input, pass, first + t, tiles + t * channels, size * channels);
    transform_output_gradient_tile<M, Vector>(
        output_grad, pass, first + t, gradient_tiles + t * out_channels, size * out_channels);
  }
  for (int64_t p = 0; p < positions; ++p)
    multiply<Vector>(tiles + p * size * channels, 1, channels,
                     gradient_tiles + p * size * out_channels, out_channels,
                     sums + p * channels * out_channels, out_channels, channels, size, out_channels,
                     true);
}

// One thread's share of filter_gradients_by_tile_groups, inside its parallel region.
template <class Vector, class Map>
[[gnu::always_inline]] inline void filter_gradient_share(const Map* input, const Map* output_grad,
                                                         float* filter_grads, const Pass& pass,
                                                         int64_t group, float* scratch) {
  const int64_t groups = group_count(pass, group);
  const auto tile_floats = static_cast<int64_t>(convolution_scratch_floats(pass, group));
  const int64_t sums = pass.positions() * pass.in_channels * pass.out_channels;
  const auto per_thread = static_cast<int64_t>(filter_gradient_scratch_floats(pass, group));
  const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
  float* tiles = scratch + thread * per_thread;
  float* gradient_tiles = tiles + pass.positions() * group * pass.in_channels;
  // Thread 0 sums into the result, the others into their own sums, added below in order.
  float* own_sums = thread == 0 ? filter_grads : tiles + tile_floats;
  std::fill(own_sums, own_sums + sums, 0.0f);
#pragma omp for schedule(static)
  for (int64_t index = 0; index < groups; ++index) {
    const Group tiles_of_group = group_of(index, group, pass);
    if (pass.block == 2) {
      filter_gradient_group<2, Vector, Map>(input, output_grad, own_sums, pass, tiles_of_group,
                                            tiles, gradient_tiles);
    } else {
      filter_gradient_group<4, Vector, Map>(input, output_grad, own_sums, pass, tiles_of_group,
                                            tiles, gradient_tiles);
    }
  }
  // (past the loop's barrier: every thread's sums are complete)
#pragma omp for schedule(static)
  for (int64_t i = 0; i < sums; ++i)
    for (int other = 1; other < threads; ++other)
      filter_grads[i] += scratch[other * per_thread + tile_floats + i];
}

// Each thread's share for the maps' element type.
template <class Vector>
[[gnu::always_inline]] inline void convolve_share_by_type(const MapView& input,
                                                          const float* filters,
                                                          const MapView& output, const float* bias,
                                                          bool relu, const Pass& pass,
                                                          int64_t group, float* scratch) {
  if (input.bf16) {
    convolve_share<Vector>(static_cast<const Bfloat16*>(input.data), filters,
                           static_cast<Bfloat16*>(output.data), bias, relu, pass, group, scratch);
  } else {
    convolve_share<Vector>(static_cast<const float*>(input.data), filters,
                           static_cast<float*>(output.data), bias, relu, pass, group, scratch);
  }
}

template <class Vector>
[[gnu::always_inline]] inline void filter_gradient_share_by_type(const MapView& input,
                                                                 const MapView& output_grad,
                                                                 float* filter_grads,
                                                                 const Pass& pass, int64_t group,
                                                                 float* scratch) {
  if (input.bf16) {
    filter_gradient_share<Vector>(static_cast<const Bfloat16*>(input.data),
                                  static_cast<const Bfloat16*>(output_grad.data), filter_grads,
                                  pass, group, scratch);
  } else {
    filter_gradient_share<Vector>(static_cast<const float*>(input.data),
                                  static_cast<const float*>(output_grad.data), filter_grads, pass,
                                  group, scratch);
  }
}

// The OpenMP regions sit in the functions compiled for each target (AVX-512, AVX2 + FMA,
// baseline), so each outlined region is compiled for its function's target; the shares above
// are inlined into them.
__attribute__((target_clones("arch=x86-64-v3", "default"))) static void convolve_on_lanes(
    const MapView& input, const float* filters, const MapView& output, const float* bias, bool relu,
    const Pass& pass, int64_t group, float* scratch) {
#pragma omp parallel
  convolve_share_by_type<Lanes>(input, filters, output, bias, relu, pass, group, scratch);
}

__attribute__((target("arch=x86-64-v4"))) static void convolve_on_wide_lanes(
    const MapView& input, const float* filters, const MapView& output, const float* bias, bool relu,
    const Pass& pass, int64_t group, float* scratch) {
#pragma omp parallel
  convolve_share_by_type<WideLanes>(input, filters, output, bias, relu, pass, group, scratch);
}

__attribute__((target_clones("arch=x86-64-v3", "default"))) static void filter_gradients_on_lanes(
    const MapView& input, const MapView& output_grad, float* filter_grads, const Pass& pass,
    int64_t group, float* scratch) {
#pragma omp parallel
  filter_gradient_share_by_type<Lanes>(input, output_grad, filter_grads, pass, group, scratch);
}

__attribute__((target("arch=x86-64-v4"))) static void filter_gradients_on_wide_lanes(
    const MapView& input, const MapView& output_grad, float* filter_grads, const Pass& pass,
    int64_t group, float* scratch) {
#pragma omp parallel
  filter_gradient_share_by_type<WideLanes>(input, output_grad, filter_grads, pass, group, scratch);
}

void convolve_by_tile_groups(const MapView& input, const float* filters, const MapView& output,
                             const float* bias, bool relu, const Pass& pass, int64_t group,
                             float* scratch) {
  const OwnLoopTimer timer;
  if (wide_lanes_in_use()) {
    convolve_on_wide_lanes(input, filters, output, bias, relu, pass, group, scratch);
  } else {
    convolve_on_lanes(input, filters, output, bias, relu, pass, group, scratch);
  }
}

void filter_gradients_by_tile_groups(const MapView& input, const MapView& output_grad,
                                     float* filter_grads, const Pass& pass, int64_t group,
                                     float* scratch) {
  const OwnLoopTimer timer;
  if (wide_lanes_in_use()) {
    filter_gradients_on_wide_lanes(input, output_grad, filter_grads, pass, group, scratch);
  } else {
    filter_gradients_on_lanes(input, output_grad, filter_grads, pass, group, scratch);
  }
}

}  // namespace convoy::kernels::winograd
