#include "framework/layers/add.hpp"

namespace convoy {

Add::Add(const AddOptions& options) : Layer("Add"), options_(options) {}

std::string Add::describe() const { return options_.fuse_relu ? "Add+ReLU" : "Add"; }

int64_t Add::forward_flops(const std::vector<Shape>& input_shapes) const {
  return element_count(input_shapes[0]);
}

void Add::set_fuse_relu(bool fuse) {
  options_.fuse_relu = fuse;
  kernel_.reset();
}

void Add::set_in_place(bool in_place) {
  in_place_ = in_place;
  kernel_.reset();
  output_ = Tensor();
}

Shape Add::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  if (input_shapes[0] != input_shapes[1]) {
    fail("the two branches must have the same shape, got " + to_string(input_shapes[0]) + " and " +
         to_string(input_shapes[1]));
  }
  return input_shapes[0];
}

void Add::reshape(const std::vector<Shape>&) { kernel_.reset(); }

Tensor Add::forward_impl(const std::vector<Tensor>& inputs, Mode) {
  const Layout& layout = inputs[0].layout();
  if (!kernel_ || kernel_->config().first != layout) {
    kernel_.emplace(kernels::BinaryAddConfig{layout, options_.fuse_relu});
    output_ = in_place_ ? Tensor() : Tensor(layout);
    relu_mask_.reset();
    if (options_.fuse_relu) {
      relu_mask_.emplace(kernels::EltwiseConfig{layout, kernels::EltwiseAlgorithm::relu});
    }
  }
  // oneDNN's binary primitive may write over its first source (same layout, same buffer).
  if (in_place_) output_ = inputs[0];
  kernel_->forward(inputs[0].memory(), inputs[1].memory(), output_.memory());
  return output_;
}

std::vector<Tensor> Add::backward_impl(const Tensor& output_grad) {
  if (!options_.fuse_relu) return {output_grad, output_grad};
  // Both branches receive the same tensor; the Net sums fan-out into a buffer of its own.
  Tensor masked_grad = gradient_buffer(output_.layout());
  relu_mask_->backward(output_grad.memory(), output_.memory(), masked_grad.memory());
  return {masked_grad, masked_grad};
}

}  // namespace convoy
