#pragma once
// Winograd by tile groups: WinogradConvolution's schedule for few-channel layers, where each
// cache-sized group of tiles is transformed, multiplied by the transformed filters and
// transformed back before the next group starts. Private to framework/kernels/.

#include <cstddef>
#include <cstdint>

#include "framework/kernels/winograd_convolution.hpp"

namespace convoy::kernels::winograd {

// Why:
// 1. With 16 or 32 channels, the batched schedule's tile buffers (2.25x the maps for F(4x4))
//    go to memory and back between the transforms and the matmuls, and a matmul with 16 as its
//    inner dimension runs far from peak in oneDNN: the transforms and the traffic cost more than
//    Winograd saves. A group of tiles whose transformed values fit in L2 makes that traffic
//    cache-resident, and the channel sums run in an own register-blocked kernel (6 tiles x 16
//    channels per step, or x 32 with AVX-512's 16-float vectors; fused multiply-adds) written
//    for exactly these short sums.
// 2. The filter gradient sums V^T dM over every group: each thread sums its groups into its own
//    buffer, and the buffers are added in thread order, so a given thread count gives the same
//    bits on every run and rank.
// 3. Unlike the batched schedule, its sums use fused multiply-adds on CPUs with them (AVX2 + FMA
//    or AVX-512, chosen at run time; the two give the same bits), so its rounding differs from
//    that schedule's in the last bits. (The transforms multiply by powers of two only, so fusing
//    them changes no bits.)
// 4. bf16 layers: the transforms read and write the bf16 maps; tiles, filters and sums are f32
//    (with AVX-512 these layers have 64 to 127 channels, where this beats the bf16 primitives).

// Tiles per group for `pass`: as many as keep one group's transformed tiles and products within
// a budget sized for L2, a multiple of the kernel's 6 rows (at least 6).
int64_t tiles_per_group(const WinogradConvolution::Pass& pass);

// Floats of scratch one thread needs: a group's tiles and products (convolve_by_tile_groups), or
// its input tiles, gradient tiles and own filter-gradient sum (filter_gradients_by_tile_groups).
size_t convolution_scratch_floats(const WinogradConvolution::Pass& pass, int64_t group);
size_t filter_gradient_scratch_floats(const WinogradConvolution::Pass& pass, int64_t group);

// output (NHWC) = pass's convolution of input (NHWC) by the transformed filters U[P][C][O]
// (+ bias, then ReLU), `group` tiles at a time; `scratch` holds convolution_scratch_floats per
// thread. The maps hold float or bf16 (both the same type); tiles, filters and sums are f32.
void convolve_by_tile_groups(const MapView& input, const float* filters, const MapView& output,
                             const float* bias, bool relu, const WinogradConvolution::Pass& pass,
                             int64_t group, float* scratch);

// filter_grads[P][C][O] = the sum over pass's tiles of V^T dM, V the input tiles and dM the
// output-gradient tiles (A dy A^T), `group` tiles at a time; `scratch` holds
// filter_gradient_scratch_floats per thread. The maps hold float or bf16 (both the same type).
void filter_gradients_by_tile_groups(const MapView& input, const MapView& output_grad,
                                     float* filter_grads, const WinogradConvolution::Pass& pass,
                                     int64_t group, float* scratch);

}  // namespace convoy::kernels::winograd
