#pragma once
// Im2colConvolution: a convolution lowered to one matrix product per pass (im2col + matmul),
// for the small maps with many channels where oneDNN 2.6's direct AVX2 convolution runs well
// below the machine's matmul peak. Private to framework/kernels/.

#include <dnnl.hpp>
#include <memory>
#include <string>

#include "framework/kernels/convolution.hpp"
#include "framework/kernels/lowered_convolution.hpp"

namespace convoy::kernels {

// Why:
// 1. oneDNN's direct AVX2 convolution blocks its registers over output width; on a 4-wide or
//    7-wide map most of the block is empty, and backward-weights suffers most (resnet18's
//    512-channel 4x4 layers: 66-101 GFLOP/s against a 154 GFLOP/s matmul peak, measured on one
//    Zen 3). Unrolled into columns, each pass is one matmul of a shape gemm runs near its peak:
//    forward     y (M, O)     = columns (M, C*KH*KW) x weights (C*KH*KW, O)
//    backward    dcolumns     = dy (M, O) x weights^T, then summed back into dx (col2im)
//    weights     dweights     = columns^T x dy
//    with M = N*OH*OW, rows in (n, oh, ow) order and columns in (kh, kw, c) order, so both
//    unrolling and summing back copy runs of C contiguous floats from an NHWC tensor.
// 2. Activations arrive and leave in whatever layouts the convolution primitives chose for the
//    neighbours; they are reordered to NHWC on the way in and back on the way out (a few MB,
//    ~1 % of the pass), so no other layer sees a difference.
// 3. The column matrix is the only large buffer (M*C*KH*KW floats, 38 MB for resnet18's layer4
//    at batch 128): one shared transient buffer serves every layer, as layers run one at a time.
// 4. Weights come as plain OIHW and are reordered to HWIO, the (C*KH*KW, O) matrix; the
//    gradient goes the other way. Loops and matmuls run in a fixed order: bit-identical from
//    run to run and rank to rank.
class Im2colConvolution : public LoweredConvolution {
 public:
  // Whether `config` is a shape this path runs faster than the convolution primitive whose
  // forward implementation oneDNN named `primitive` (see LoweringChoice::automatic).
  static bool preferred(const ConvolutionConfig& config, const std::string& primitive);

  // An Im2colConvolution for `config`, or nothing where the shape is not supported (groups,
  // bf16) or its column matrix would exceed 512 MB.
  static std::unique_ptr<Im2colConvolution> create(const ConvolutionConfig& config);

  std::string implementation() const override;  // "im2col matmul (...)"
  // Activations may come in any layout of their dims.
  void forward(const dnnl::memory& source, const float* weights, const float* bias,
               const dnnl::memory& destination) override;
  void backward_data(const dnnl::memory& destination_grad, const float* weights,
                     const dnnl::memory& source_grad) override;
  void backward_weights(const dnnl::memory& source, const dnnl::memory& destination_grad,
                        float* weights_grad, float* bias_grad) override;

 private:
  Im2colConvolution() = default;
  void unroll(const float* source, float* columns) const;         // im2col
  void sum_back(const float* columns, float* source_grad) const;  // col2im
  void load_weights(const float* weights);
  float* columns() const;  // the shared column buffer, (M, C*KH*KW)

  ConvolutionConfig config_;
  int64_t rows_ = 0, filter_size_ = 0;  // M = N*OH*OW, C*KH*KW
  // NHWC views of the input and output activations, the plain and HWIO weights.
  dnnl::memory::desc source_rows_, destination_rows_, plain_weights_, weights_by_tap_;
  // The matmuls' operands: (M, C*KH*KW) and its transpose, (M, O), (O, C*KH*KW), (1, O).
  dnnl::memory::desc columns_, columns_transposed_, results_, weights_transposed_, bias_;
  dnnl::memory weights_matrix_;  // (C*KH*KW, O): the weights, then their gradient
  dnnl::matmul forward_, backward_data_, backward_weights_;
  std::string implementation_;
};

}  // namespace convoy::kernels
