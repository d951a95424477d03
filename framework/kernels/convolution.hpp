#pragma once
// Convolution: oneDNN forward, backward-data and backward-weights primitives for one shape,
// created once and executed every step. Weights come and go in plain OIHW.

#include <memory>
#include <string>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

// When a convolution runs on a lowered path (Im2colConvolution, WinogradConvolution) instead of
// oneDNN's convolution primitives.
enum class LoweringChoice {
  automatic,  // where that path was measured faster (each path's preferred())
  always,     // on every shape the path supports: for tests and measurements
  never,
};

// Where a convolution may leave oneDNN's convolution primitives for a lowered path: whole-map
// matmuls first, then Winograd, then im2col (im2col forced to always outranks Winograd).
// One value, so Conv2d, ModelConfig and the launcher pass the choices on whole.
struct ConvolutionPaths {
  // Where every output's window covers the whole input map, run matmuls (WholeMapConvolution);
  // off, the convolution primitives run for every shape (to measure or rule out the path).
  bool whole_map_matmul = true;
  // Elsewhere: where (and whether) 3x3 stride-1 convolutions run as Winograd tiles and batched
  // matmuls (automatic: f32, at least 16 channels in and out on AVX2, 32 on AVX-512) ...
  LoweringChoice winograd = LoweringChoice::automatic;
  // Winograd's output block: 2 (F(2x2, 3x3)), 4 (F(4x4, 3x3): fewer multiplications, more
  // rounding), or 0 for the automatic choice.
  int64_t winograd_tile = 0;
  // Winograd's schedule: a cache-sized group of tiles transformed, summed over channels and
  // transformed back at a time (automatic: fewer than 64 channels in or out), or the whole
  // batch's tiles through batched oneDNN matmuls (never).
  LoweringChoice winograd_tile_groups = LoweringChoice::automatic;
  // ... and where the others run as im2col + matmul (automatic: AVX2, output maps up to 7x7,
  // C*KH*KW >= 2304).
  LoweringChoice im2col_matmul = LoweringChoice::automatic;

  bool operator==(const ConvolutionPaths&) const = default;
};

// One convolution: its input shape, filter, stride, padding, fused ReLU, compute type and paths.
struct ConvolutionConfig {
  Shape input;  // (N, C, H, W)
  int64_t out_channels = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t padding_h = 0, padding_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool bias = false;
  bool fuse_relu = false;  // forward computes relu(conv(x)); backward expects the relu'd output
  // bf16: bf16 activations and activation gradients, f32 weights and weight gradients outside
  DataType compute_type = DataType::f32;
  ConvolutionPaths paths{};

  // H_out = floor((H + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1
  Shape output_shape() const;
};

// oneDNN's names for the implementations it chose, e.g. "jit:avx2", "gemm:jit" or "ref:any".
struct ConvolutionImplementations {
  std::string forward, backward_data, backward_weights;
};

class Convolution {
 public:
  explicit Convolution(const ConvolutionConfig& config);
  ~Convolution();
  Convolution(Convolution&&) noexcept;
  Convolution& operator=(Convolution&&) noexcept;

  // Layouts the primitive chose for its output (allocate the layer output with it) and input.
  Layout destination_layout() const;
  Layout source_layout() const;
  ConvolutionImplementations implementations() const;
  // The three in one line: "jit:avx2", or "forward | backward-data | backward-weights".
  std::string implementation() const;

  // weights: plain (O, C/groups, KH, KW); bias: plain (O) or empty.
  void forward(const Memory& source, const Memory& weights, const Memory& bias,
               const Memory& destination);
  // With fuse_relu, `destination` is the forward output, used to mask destination_grad.
  void backward_data(const Memory& destination_grad, const Memory& weights,
                     const Memory& source_grad, const Memory& destination);
  // `destination` as for backward_data; backward_data may be skipped (the first layer's input
  // gradient is not needed in training).
  void backward_weights(const Memory& source, const Memory& destination_grad,
                        const Memory& weights_grad, const Memory& bias_grad,
                        const Memory& destination);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
