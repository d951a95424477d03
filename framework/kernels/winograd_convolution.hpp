#pragma once
// WinogradConvolution: a 3x3 stride-1 convolution computed with Winograd's F(2x2, 3x3) or
// F(4x4, 3x3) algorithm, its channel sums as batched oneDNN matmuls (64 channels and more; 128
// with AVX-512) or group by group of tiles in an own kernel (fewer), for the layers where
// oneDNN 2.6 has only its direct convolution (AVX2 and AVX-512; its own loops run 8 or 16 floats a
// vector). Private to framework/kernels/.

#include <dnnl.hpp>
#include <memory>
#include <string>

#include "framework/kernels/convolution.hpp"
#include "framework/kernels/lowered_convolution.hpp"

namespace convoy::kernels {

// Why:
// 1. F(m x m, 3x3) computes each m x m block of outputs from its (m+2)x(m+2) input tile with
//    (m+2)^2 multiplications per channel pair instead of 9 m^2: 16 instead of 36 for m = 2, 36
//    instead of 144 for m = 4 (Lavin & Gray, 2015). With the tile transformed (V = B^T d B) and
//    the filter transformed (U = G g G^T), the output block is A^T (sum over input channels of
//    U . V) A. For each position of the transformed tile, that sum over channels is a matmul
//    (tiles x C) x (C x O); oneDNN runs them as one batched matmul near its peak. oneDNN 2.6 has
//    Winograd only on AVX-512.
// 2. The block is 4x4 where 4x4 blocks cut the output map little (their transformed tiles hold
//    at most 0.6 of the 2x2 blocks' values; 0.75 in the tile-group schedule, where the transforms
//    weigh more), else 2x2 (ConvolutionPaths::winograd_tile forces one): 4x4 needs fewer
//    multiplications and moves fewer tile values per output, but rounds more (its transforms
//    multiply by up to 8) and wastes more on a cut map (14x14).
// 3. Backward-data is the same algorithm: dx is dy convolved with the filters turned by 180
//    degrees and their in/out channels swapped, padded by 2 - padding. Backward-weights is the
//    exact gradient of the forward's arithmetic: dU = sum over tiles of V^T (A dy A^T), one more
//    batched matmul, and dg = G^T dU G.
// 4. Two schedules. With 64 channels and more in and out (128 with AVX-512, whose tile groups
//    sum 32 channels a step), the whole batch's tiles are transformed, then multiplied as one
//    batched matmul per pass, then transformed back: the batch runs in chunks of images whose
//    tiles fill at most 32 MB of a buffer, the filter gradients summed over the chunks in order.
//    With fewer channels those matmuls are too short for oneDNN's to run near peak and the tile
//    traffic dominates, so each cache-sized group of tiles goes through all three steps at once
//    (winograd_tile_groups.hpp). ConvolutionPaths::winograd_tile_groups forces either.
// 5. Transforms and matmuls read and write NHWC, and Convolution gives a Winograd layer NHWC
//    activations and gradients, so consecutive Winograd layers and the BatchNorms and sums
//    between them need no reorders; other neighbours' layouts are reordered from and to. The
//    tiles live in two shared transient buffers and the transformed filters in a third, so the
//    path adds three buffers to the process, not per layer.
// 6. The batched schedule's transforms run in a fixed order without fused multiply-adds, and
//    the matmuls are deterministic; the tile groups' sums are too, for a given thread count:
//    bit-identical from run to run and rank to rank. Rounding differs from the direct
//    convolution's (relative differences ~1e-6 in f32 with 2x2 blocks, a few times that with
//    4x4).
// 7. bf16 layers: the transforms read and write bf16 maps, so a bf16 network needs no
//    conversions around the path. In the batched schedule with 2x2 blocks the transformed tiles
//    and filters are rounded to bf16 for bf16 matmuls (f32 products, 1.7-2.2x the bf16
//    primitives' error against f32); with 4x4 blocks, whose transforms would make that 10x, and
//    in the tile groups (AVX-512: 64 to 127 channels), the tiles and sums stay f32. The weights
//    and their gradient stay f32, as for every bf16 layer.
struct MapView;  // an NHWC map, float or bf16 (winograd_tiles.hpp)

class WinogradConvolution : public LoweredConvolution {
 public:
  // Whether `config` is a shape this path runs faster than the convolution primitive whose
  // forward implementation oneDNN named `primitive` (see LoweringChoice::automatic).
  static bool preferred(const ConvolutionConfig& config, const std::string& primitive);

  // A WinogradConvolution for `config`, or nothing where the shape is not supported (not a 3x3
  // kernel with stride 1 and dilation 1, padding above 2, groups).
  static std::unique_ptr<WinogradConvolution> create(const ConvolutionConfig& config);

  // "winograd F(2x2,3x3) matmul (gemm:jit)" or "winograd F(4x4,3x3) ...", with " in N chunks"
  // where the batch is split; "winograd F(4x4,3x3) in groups of N tiles" for tile groups.
  std::string implementation() const override;
  void forward(const dnnl::memory& source, const float* weights, const float* bias,
               const dnnl::memory& destination) override;
  void backward_data(const dnnl::memory& destination_grad, const float* weights,
                     const dnnl::memory& source_grad) override;
  void backward_weights(const dnnl::memory& source, const dnnl::memory& destination_grad,
                        float* weights_grad, float* bias_grad) override;

  // One convolution of an NHWC map by tiles: forward (x -> y) and backward-data (dy -> dx) are
  // each one of these, run on one chunk of the batch at a time.
  struct Pass {
    int64_t batch = 0;  // images per chunk
    int64_t in_height = 0, in_width = 0, in_channels = 0;
    int64_t out_height = 0, out_width = 0, out_channels = 0;
    int64_t padding_h = 0, padding_w = 0;
    int64_t block = 2;                 // outputs per tile: block x block (2 or 4)
    int64_t tiles_h = 0, tiles_w = 0;  // output blocks per column and row
    int64_t tiles() const { return batch * tiles_h * tiles_w; }
    // Values of a transformed (block + 2) x (block + 2) tile: 16 or 36.
    int64_t positions() const { return (block + 2) * (block + 2); }
  };

 private:
  WinogradConvolution() = default;
  // The filters transformed (forward: U[positions][C][O]; backward-data: the turned filters,
  // U[positions][O][C]), in the shared filter buffer.
  // In the matmuls' operand type: float, or bf16 where the layer computes in bf16.
  void* transformed_filters(const float* weights, bool for_backward_data) const;
  bool bf16_operands() const;  // tiles and filters rounded to bf16 for bf16 matmuls
  // dU[positions][C][O] over the batch, chunk by chunk through the batched matmuls.
  void batched_filter_gradients(const MapView& input, const MapView& output_grad,
                                float* filter_grads);
  // The batched schedule's transforms of one chunk of images: maps of the compute type, tiles
  // of the matmuls' operand type.
  void transform_input_tiles(const MapView& input, int64_t chunk, void* tiles,
                             const Pass& pass) const;
  void transform_output_tiles(const float* products, const MapView& output, int64_t chunk,
                              const float* bias, bool relu, const Pass& pass) const;
  void transform_output_gradient_tiles(const MapView& output_grad, int64_t chunk, void* tiles,
                                       const Pass& pass) const;

  ConvolutionConfig config_;
  Pass forward_pass_, backward_data_pass_;
  int64_t chunks_ = 1;  // the batch is this many chunks of forward_pass_.batch images
  // Tiles per group in the tile-group schedule (winograd_tile_groups.hpp); 0: batched matmuls.
  int64_t group_ = 0;
  dnnl::memory::desc source_rows_, destination_rows_;  // NHWC
  // Batched matmul operands (P positions: 16 or 36): forward (P, T, C) x (P, C, O),
  // backward-data (P, T', O) x (P, O, C), backward-weights (P, C, T) [the forward tiles
  // transposed] x (P, T, O).
  dnnl::memory::desc forward_tiles_, forward_filters_, forward_products_;
  dnnl::memory::desc backward_tiles_, backward_filters_, backward_products_;
  dnnl::memory::desc tiles_transposed_, filter_gradients_;
  dnnl::memory::desc gradient_tiles_;  // backward-weights' (P, T, O): forward_products_' shape
  dnnl::matmul forward_, backward_data_, backward_weights_;
  dnnl::matmul backward_weights_sum_;  // adds a later chunk's filter gradients to the earlier
  std::string implementation_;
};

}  // namespace convoy::kernels
