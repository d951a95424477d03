#pragma once
// WholeMapConvolution: a convolution in which every output position's window covers the whole
// input map (a 3x3 kernel with padding 1 on a 2x2 or 1x1 map, as at the end of VGG), run as
// three dense matmuls. Private to framework/kernels/.

#include <dnnl.hpp>
#include <memory>
#include <string>
#include <vector>

#include "framework/kernels/convolution.hpp"
#include "framework/kernels/lowered_convolution.hpp"

namespace convoy::kernels {

// Why:
// 1. When each output position sees every input position, the convolution is a Linear layer
//    over the flattened map: y[n, (o, p)] = sum over (c, q) of W[o, c, tap(p, q)] * x[n, (c, q)]
//    with no zero taps, where oneDNN 2.6's convolution computes all nine taps, five of them on
//    padding. For 512 channels on 2x2 at batch 128 on AVX2 (vgg11_bn's features.22, measured
//    side by side): 33 ms forward + 137 ms backward as a convolution, 14 + 32 ms as matmuls.
// 2. The expanded weight matrix is (O*P) x (C*Q): 16/9 of the weights on a 2x2 map, no more
//    than the weights on a 1x1 map. It is rebuilt from the plain OIHW weights on every call, and
//    the weight gradient is folded back into OIHW, so nothing outside this class changes.
// 3. The activations stay in the layouts the convolution primitive chose for its neighbours;
//    the expanded matrix's rows and columns follow the order in which those layouts store one
//    sample (learnt by reordering an index tensor), so no activation is reordered.
// 4. Every loop and matmul runs in a fixed order, so results are bit-identical from run to run
//    and rank to rank.
class WholeMapConvolution : public LoweredConvolution {
 public:
  // A WholeMapConvolution for `config` with activations in `source` and `destination` layouts,
  // or nothing where the shape does not qualify (a window that misses some input position,
  // groups, bf16) or a layout does not store each sample contiguously.
  static std::unique_ptr<WholeMapConvolution> create(const ConvolutionConfig& config,
                                                     const dnnl::memory::desc& source,
                                                     const dnnl::memory::desc& destination);

  std::string implementation() const override;  // "whole-map matmul (...)"
  void forward(const dnnl::memory& source, const float* weights, const float* bias,
               const dnnl::memory& destination) override;
  void backward_data(const dnnl::memory& destination_grad, const float* weights,
                     const dnnl::memory& source_grad) override;
  void backward_weights(const dnnl::memory& source, const dnnl::memory& destination_grad,
                        float* weights_grad, float* bias_grad) override;

 private:
  WholeMapConvolution() = default;
  void expand_weights(const float* weights);

  int64_t batch_ = 0, out_channels_ = 0, filter_size_ = 0;  // filter: C * KH * KW
  int64_t output_positions_ = 0;                            // P = OH*OW
  int64_t columns_ = 0, rows_ = 0;  // C*Q (one stored input sample), O*P (one output sample)
  // Where each output (o, p) sits within one stored sample: row_of_output_[o * P + p].
  std::vector<int64_t> row_of_output_;
  // For output position p and stored input element s = (c, q): the offset c * KH * KW + tap(p, q)
  // of its weight within one filter, at filter_offset_[p * C * Q + s].
  std::vector<int32_t> filter_offset_;
  // Matrix views of the activations: (N, C*Q), (N, O*P) and its transpose (O*P, N).
  dnnl::memory::desc samples_, results_, results_transposed_, expanded_transposed_;
  // (O*P, C*Q), rows and columns in stored order: the expanded weights, then their gradient.
  dnnl::memory expanded_;
  dnnl::memory expanded_bias_;  // (1, O*P)
  dnnl::matmul forward_, backward_data_, backward_weights_;
  std::string implementation_;
};

}  // namespace convoy::kernels
