#pragma once
// Add: the residual sum of two branches of identical shape (ResNet's `out += identity`), with
// the block's final ReLU optionally fused in.

#include <optional>

#include "framework/kernels/binary_add.hpp"
#include "framework/kernels/eltwise.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

struct AddOptions {
  bool fuse_relu = false;  // relu(a + b); backward masks the gradient by output > 0
};

class Add : public Layer {
 public:
  explicit Add(const AddOptions& options = {});

  int input_count() const override { return 2; }
  std::string describe() const override;
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  void set_fuse_relu(bool fuse);
  bool absorb_relu() override {
    set_fuse_relu(true);
    return true;
  }
  bool fuse_relu() const { return options_.fuse_relu; }
  // Writes the sum into the first input's buffer (PyTorch's `out += identity`) instead of a
  // buffer of its own: one activation fewer per residual block. Only for a first input that
  // nothing else reads afterwards (Net::set_in_place_adds checks).
  void set_in_place(bool in_place);
  bool in_place() const { return in_place_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  AddOptions options_;
  bool in_place_ = false;
  std::optional<kernels::BinaryAdd> kernel_;
  std::optional<kernels::Eltwise> relu_mask_;  // backward of the fused ReLU
  Tensor output_;  // the fused ReLU's backward masks with it; the first input's when in place
};

}  // namespace convoy
