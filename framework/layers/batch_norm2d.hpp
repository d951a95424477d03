#pragma once
// BatchNorm2d: per-channel batch normalization of an (N, C, H, W) input, as
// torch.nn.BatchNorm2d, optionally fused with a following ReLU and optionally synchronized
// over ranks (SyncBatchNorm). Weight (C) = gamma, bias (C) = beta; buffers running_mean (C),
// running_var (C), num_batches_tracked (1, a count stored as float).

#include <optional>
#include <vector>

#include "framework/kernels/batch_normalization.hpp"
#include "framework/layers/layer.hpp"
#include "framework/layers/statistics_reducer.hpp"

namespace convoy {

struct BatchNorm2dOptions {
  int64_t channels = 0;
  double eps = 1e-5;
  // running = (1 - momentum) * running + momentum * batch statistic (PyTorch's convention).
  double momentum = 0.1;
  bool affine = true;
  // Computes relu(bn(x)) in one primitive; the Net sets it when a ReLU follows (performance).
  bool fuse_relu = false;
};

class BatchNorm2d : public Layer {
 public:
  explicit BatchNorm2d(const BatchNorm2dOptions& options);

  std::string describe() const override;
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  std::string implementation() const override;
  // weight = 1, bias = 0, running statistics back to (0, 1, 0), as torch's reset_parameters.
  void reset_parameters(std::mt19937_64& generator) override;
  const BatchNorm2dOptions& options() const { return options_; }
  Parameter* weight() { return weight_; }
  Parameter* bias() { return bias_; }
  Buffer& running_mean() { return *running_mean_; }
  Buffer& running_var() { return *running_var_; }
  Buffer& num_batches_tracked() { return *num_batches_tracked_; }
  void set_fuse_relu(bool fuse);
  bool absorb_relu() override {
    set_fuse_relu(true);
    return true;
  }
  // With a reducer, training-mode statistics (and the matching backward sums) are those of the
  // global batch over all ranks. nullptr returns to per-rank statistics. Not owned.
  void set_statistics_reducer(StatisticsReducer* reducer) { reducer_ = reducer; }
  // Backward needs the input and the statistics; the output only to mask a fused ReLU.
  bool output_overwritable() const override { return !options_.fuse_relu; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  enum class Path { local_training, synchronized_training, frozen };

  void build_kernel(const Layout& input_layout);
  void forward_synchronized();
  std::vector<Tensor> backward_with_plain_loops(const Tensor& output_grad);
  void update_running_statistics(std::span<const double> mean, std::span<const double> variance,
                                 double count);

  BatchNorm2dOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  Buffer* running_mean_ = nullptr;
  Buffer* running_var_ = nullptr;
  Buffer* num_batches_tracked_ = nullptr;
  StatisticsReducer* reducer_ = nullptr;
  std::optional<kernels::BatchNormalization> kernel_;
  Path last_path_ = Path::local_training;
  Tensor input_;           // saved by forward for backward // (N, C, H, W)
  Tensor output_;          // same layout as the input // (N, C, H, W)
  Tensor batch_mean_;      // plain, filled by the oneDNN training forward // (C)
  Tensor batch_variance_;  // biased // (C)
  // Plain copies for the hand-written paths (synchronized training, frozen backward).
  Tensor plain_input_, plain_output_;       // (N, C, H, W)
  std::vector<double> mean_, inverse_std_;  // statistics the plain paths normalized with // (C)
  double global_count_ = 0;                 // N * H * W summed over ranks
};

}  // namespace convoy
