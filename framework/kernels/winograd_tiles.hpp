#pragma once
// The Winograd tile transforms, one tile or block at a time, shared by WinogradConvolution's two
// schedules (winograd_convolution.cpp: the whole batch's tiles, then batched matmuls;
// winograd_tile_groups.cpp: a cache-sized group of tiles at a time). Private to
// framework/kernels/; include it only from .cpp files built with -Wno-psabi (CMakeLists.txt).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "framework/kernels/lanes.hpp"
#include "framework/kernels/winograd_convolution.hpp"

namespace convoy::kernels {

// Bytes per value of a map, tile buffer or transformed filter: bf16 or float.
inline size_t element_bytes(bool bf16) { return bf16 ? sizeof(Bfloat16) : sizeof(float); }

// An NHWC map of either element type, and where image `first` of one starts.
struct MapView {
  void* data;
  bool bf16;
  void* image(int64_t first, int64_t image_size) const {
    return static_cast<char*>(data) + first * image_size * element_bytes(bf16);
  }
};

}  // namespace convoy::kernels

namespace convoy::kernels::winograd {

using Pass = WinogradConvolution::Pass;

// Where tile `tile` of `pass` lies: its image and the first output row and column of its block
// of block x block outputs (the input tile starts `padding` earlier).
struct TilePlace {
  int64_t image, top, left;
};
inline TilePlace place_of(int64_t tile, const Pass& pass) {
  return {tile / (pass.tiles_h * pass.tiles_w), tile / pass.tiles_w % pass.tiles_h * pass.block,
          tile % pass.tiles_w * pass.block};
}

// Four doubles and four floats: the lanes of F(4, 3)'s filter transforms (below).
typedef double Doubles __attribute__((vector_size(32), aligned(8)));
typedef float FourFloats __attribute__((vector_size(16), aligned(4)));

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
  using RealLanes = Lanes;  // filter transforms one per lane
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
  template <class Value>
  [[gnu::always_inline]] static void filter(const Value g[3], Value u[4]) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
  // dg = G^T du, the gradient of filter()
  template <class Value>
  [[gnu::always_inline]] static void filter_gradient(const Value du[4], Value dg[3]) {
    dg[0] = du[0] + 0.5f * (du[1] + du[2]);
    dg[1] = 0.5f * (du[1] - du[2]);
    dg[2] = 0.5f * (du[1] + du[2]) + du[3];
  }
};

template <>
struct Transforms<4> {
  using Real = double;
  using RealLanes = Doubles;
  // v = B^T d, B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
  // 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
  // Every product is by a power of two (exact), so a fused multiply-add rounds as the separate
  // operations do: where the compiler contracts (the tile groups' file) or not, and whatever it
  // fuses, each schedule and ISA gives the same bits. (5 d as 4 d + d for that reason.)
  template <class Lane>
  [[gnu::always_inline]] static void input(const Lane d[6], Lane v[6]) {
    const Lane a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
    const Lane c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);
    v[0] = 4.0f * (d[0] - d[2]) - d[2] + d[4];
    v[1] = a + b;
    v[2] = a - b;
    v[3] = c + e;
    v[4] = c - e;
    v[5] = 4.0f * (d[1] - d[3]) - d[3] + d[5];
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
  template <class Value>
  [[gnu::always_inline]] static void filter(const Value g[3], Value u[6]) {
    const Value p = g[0] + g[2], q = 0.25 * g[0] + g[2];
    u[0] = 0.25 * g[0];
    u[1] = -(p + g[1]) * kSixth;
    u[2] = -(p - g[1]) * kSixth;
    u[3] = (q + 0.5 * g[1]) * kSixth;
    u[4] = (q - 0.5 * g[1]) * kSixth;
    u[5] = g[2];
  }
  // dg = G^T du, the gradient of filter()
  template <class Value>
  [[gnu::always_inline]] static void filter_gradient(const Value du[6], Value dg[3]) {
    dg[0] = 0.25 * du[0] + (0.25 * (du[3] + du[4]) - (du[1] + du[2])) * kSixth;
    dg[1] = (du[2] - du[1] + 0.5 * (du[3] - du[4])) * kSixth;
    dg[2] = (du[3] + du[4] - du[1] - du[2]) * kSixth + du[5];
  }
};

// The tile transforms below write and read tile buffers (position p of a tile at p * stride)
// and NHWC maps, each of floats or, in bf16 layers, bf16 (`Tile`, `Map`). Each runs over a tile's
// channels a `Vector` at a time (eight, one AVX2 register, `Lanes` of lanes.hpp; or sixteen,
// `WideLanes`, in the AVX-512 versions) and then one at a time for the rest, the same arithmetic
// written once for all (`Lane` is a vector or float), in a fixed order, so every clone and lane
// width computes the same bits. winograd_convolution.cpp compiles them without fused
// multiply-adds and winograd_tile_groups.cpp with them where its clone has them; since every
// product in these transforms is by a power of two (exact), fusing changes no bits either.

// Calls step.template operator()<Lane>(first) over channels [0, channels): a Vector's worth
// at a time, then (after WideLanes) a Lanes' worth, then one channel at a time.
template <class Vector, class Step>
[[gnu::always_inline]] inline void over_channels(int64_t channels, Step step) {
  int64_t first = 0;
  for (; first + lane_width<Vector> <= channels; first += lane_width<Vector>)
    step.template operator()<Vector>(first);
  if constexpr ((lane_width<Vector>) > kLaneWidth) {
    for (; first + kLaneWidth <= channels; first += kLaneWidth)
      step.template operator()<Lanes>(first);
  }
  for (; first < channels; ++first) step.template operator()<float>(first);
}

// Channel `first` onwards of a pixel (float or bf16), zero where the pixel is null (outside the
// map).
template <class Lane, class Map>
[[gnu::always_inline]] inline Lane load_or_zero(const Map* pixel, int64_t first) {
  return pixel != nullptr ? load<Lane>(pixel + first) : Lane{};
}

// Applies a 1-D transform (In -> Out values) along the first index of an In x In block of
// channels [first, first + lane width), read through pixels[i][j] (null: zero), then along the
// second, and writes the Out x Out result to out + position * stride: the input transform
// V = B^T d B (In = Out = M + 2) and the output-gradient transform dM = A dY A^T (In = M).
template <int64_t In, int64_t Out, class Lane, class Map, class Tile, class Transform>
[[gnu::always_inline]] inline void transform_both_ways(const Map* const pixels[In][In],
                                                       int64_t first, Tile* out, int64_t stride,
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
template <int64_t M, class Lane, class Map, class Tile>
[[gnu::always_inline]] inline void input_tile(const Map* const pixels[M + 2][M + 2], int64_t first,
                                              Tile* out, int64_t stride) {
  transform_both_ways<M + 2, M + 2, Lane>(
      pixels, first, out, stride,
      [](const Lane* d, Lane* v) __attribute__((always_inline)) { Transforms<M>::input(d, v); });
}

// One tile of the input transform, every channel: position p's channels to out + p * stride,
// as floats or rounded to bf16 (`Tile`), from a float or bf16 map (`Map`).
template <int64_t M, class Vector = Lanes, class Map, class Tile>
[[gnu::always_inline]] inline void transform_input_tile(const Map* input, const Pass& pass,
                                                        int64_t tile, Tile* out, int64_t stride) {
  constexpr int64_t T = M + 2;
  const int64_t channels = pass.in_channels;
  const auto [n, block_top, block_left] = place_of(tile, pass);
  const int64_t top = block_top - pass.padding_h, left = block_left - pass.padding_w;
  const Map* pixels[T][T];
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) {
      const int64_t row = top + i, column = left + j;
      const bool inside = row >= 0 && row < pass.in_height && column >= 0 && column < pass.in_width;
      pixels[i][j] = inside
                         ? input + ((n * pass.in_height + row) * pass.in_width + column) * channels
                         : nullptr;
    }
  over_channels<Vector>(
      channels, [&]<class Lane>(int64_t first) __attribute__((always_inline)) {
        input_tile<M, Lane>(pixels, first, out + first, stride);
      });
}

// One MxM output block = A^T M A (+ bias, then ReLU) for channels [first, first + lane width),
// M read from products + position * stride, written through pixels[i][j] (null: beyond an
// odd-sized map, dropped).
template <int64_t M, class Lane, class Map>
[[gnu::always_inline]] inline void output_tile(const float* products, int64_t stride, int64_t first,
                                               Map* const pixels[M][M], const float* bias,
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

// One block of the output transform, every channel, position p of M read from block + p * stride,
// written to a float or bf16 map (`Map`).
template <int64_t M, class Vector = Lanes, class Map>
[[gnu::always_inline]] inline void transform_output_tile(const float* block, int64_t stride,
                                                         Map* output, const float* bias, bool relu,
                                                         const Pass& pass, int64_t tile) {
  const int64_t channels = pass.out_channels;
  Map* pixels[M][M];
  output_block_pixels<M>(output, pass, tile, pixels);
  over_channels<Vector>(
      channels, [&]<class Lane>(int64_t first) __attribute__((always_inline)) {
        output_tile<M, Lane>(block + first, stride, first, pixels, bias, relu);
      });
}

// dM = A dY A^T for one MxM block of dy (zero where a pixel is null, beyond the map).
template <int64_t M, class Lane, class Map, class Tile>
[[gnu::always_inline]] inline void output_gradient_tile(const Map* const pixels[M][M],
                                                        int64_t first, Tile* out, int64_t stride) {
  transform_both_ways<M, M + 2, Lane>(
      pixels, first, out, stride, [](const Lane* g, Lane* r) __attribute__((always_inline)) {
        Transforms<M>::output_gradient(g, r);
      });
}

// One block of the output-gradient transform, every channel: position p to out + p * stride,
// as floats or rounded to bf16 (`Tile`), from a float or bf16 map (`Map`).
template <int64_t M, class Vector = Lanes, class Map, class Tile>
[[gnu::always_inline]] inline void transform_output_gradient_tile(const Map* output_grad,
                                                                  const Pass& pass, int64_t tile,
                                                                  Tile* out, int64_t stride) {
  const int64_t channels = pass.out_channels;
  const Map* pixels[M][M];
  output_block_pixels<M>(output_grad, pass, tile, pixels);
  over_channels<Vector>(
      channels, [&]<class Lane>(int64_t first) __attribute__((always_inline)) {
        output_gradient_tile<M, Lane>(pixels, first, out + first, stride);
      });
}

// The filter transforms run on `Real`s (float for F(2, 3), double for F(4, 3)), one filter at a
// time or one per lane of a `RealLanes` (eight floats or four doubles); lane by lane the same
// arithmetic as one at a time, so both give the same bits.
template <int64_t M>
inline constexpr int64_t kRealLaneWidth = sizeof(typename Transforms<M>::RealLanes) /
                                          sizeof(typename Transforms<M>::Real);

// U = G g G^T (M + 2 by M + 2) of a 3x3 filter g.
template <int64_t M, class Value>
[[gnu::always_inline]] inline void transform_filter(const Value g[3][3], Value u[M + 2][M + 2]) {
  constexpr int64_t T = M + 2;
  Value columns[T][3];  // G g
#pragma GCC unroll 3
  for (int64_t j = 0; j < 3; ++j) {
    const Value column[3] = {g[0][j], g[1][j], g[2][j]};
    Value transformed[T];
    Transforms<M>::filter(column, transformed);
#pragma GCC unroll 6
    for (int64_t i = 0; i < T; ++i) columns[i][j] = transformed[i];
  }
#pragma GCC unroll 6
  for (int64_t i = 0; i < T; ++i) Transforms<M>::filter(columns[i], u[i]);
}

// dg = G^T dU G, the gradient of transform_filter.
template <int64_t M, class Value>
[[gnu::always_inline]] inline void filter_gradient(const Value du[M + 2][M + 2], Value dg[3][3]) {
  constexpr int64_t T = M + 2;
  Value rows[T][3];  // dU G
#pragma GCC unroll 6
  for (int64_t i = 0; i < T; ++i) Transforms<M>::filter_gradient(du[i], rows[i]);
#pragma GCC unroll 3
  for (int64_t j = 0; j < 3; ++j) {
    Value column[T], result[3];
#pragma GCC unroll 6
    for (int64_t i = 0; i < T; ++i) column[i] = rows[i][j];
    Transforms<M>::filter_gradient(column, result);
#pragma GCC unroll 3
    for (int64_t i = 0; i < 3; ++i) dg[i][j] = result[i];
  }
}

// Reals to and from floats: one, or a lane's worth (rounded once, as one at a time).
[[gnu::always_inline]] inline void load_reals(const float* from, float& value) { value = *from; }
[[gnu::always_inline]] inline void load_reals(const float* from, double& value) { value = *from; }
[[gnu::always_inline]] inline void load_reals(const float* from, Lanes& value) {
  value = load<Lanes>(from);
}
[[gnu::always_inline]] inline void load_reals(const float* from, Doubles& value) {
  value = __builtin_convertvector(load<FourFloats>(from), Doubles);
}
[[gnu::always_inline]] inline void store_reals(float* to, float value) { *to = value; }
[[gnu::always_inline]] inline void store_reals(float* to, double value) {
  *to = static_cast<float>(value);
}
[[gnu::always_inline]] inline void store_reals(float* to, Lanes value) { store(to, value); }
[[gnu::always_inline]] inline void store_reals(float* to, Doubles value) {
  store(to, __builtin_convertvector(value, FourFloats));
}
// Rounded to float, then to bf16.
template <int64_t Width, class Value>
[[gnu::always_inline]] inline void store_rounded_to_bf16(Bfloat16* to, Value value) {
  float rounded[Width];
  store_reals(rounded, value);
  for (int64_t lane = 0; lane < Width; ++lane) store(to + lane, rounded[lane]);
}
[[gnu::always_inline]] inline void store_reals(Bfloat16* to, float value) { store(to, value); }
[[gnu::always_inline]] inline void store_reals(Bfloat16* to, double value) {
  store_rounded_to_bf16<1>(to, value);
}
[[gnu::always_inline]] inline void store_reals(Bfloat16* to, Lanes value) { store(to, value); }
[[gnu::always_inline]] inline void store_reals(Bfloat16* to, Doubles value) {
  store_rounded_to_bf16<4>(to, value);
}

}  // namespace convoy::kernels::winograd
