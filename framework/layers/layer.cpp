#include "framework/layers/layer.hpp"

#include "framework/common/error.hpp"

namespace convoy {

Shape Layer::output_shape(const std::vector<Shape>& input_shapes) const {
  if (static_cast<int>(input_shapes.size()) != input_count()) {
    fail("expects " + std::to_string(input_count()) + " input(s), got " +
         std::to_string(input_shapes.size()));
  }
  return infer_output_shape(input_shapes);
}

Tensor Layer::forward(const std::vector<Tensor>& inputs, Mode mode) {
  std::vector<Shape> shapes;
  shapes.reserve(inputs.size());
  for (const auto& input : inputs) {
    if (input.empty()) fail("got an empty input tensor");
    shapes.push_back(input.shape());
  }
  if (shapes != reshaped_for_) {
    output_shape(shapes);  // validates before any kernel is built
    reshape(shapes);
    reshaped_for_ = shapes;
  }
  forward_ran_ = true;
  return forward_impl(inputs, mode);
}

std::vector<Tensor> Layer::backward(const Tensor& output_grad) {
  if (!forward_ran_) fail("backward called before forward");
  auto expected = infer_output_shape(reshaped_for_);
  if (output_grad.shape() != expected) {
    fail("output gradient has shape " + to_string(output_grad.shape()) + ", expected " +
         to_string(expected));
  }
  return backward_impl(output_grad);
}

Tensor Layer::gradient_buffer(const Layout& layout) {
  return gradient_buffers_ ? gradient_buffers_->acquire(layout) : Tensor(layout);
}

Tensor Layer::plain_gradient(const Tensor& gradient) {
  const Layout& layout = gradient.layout();
  if (layout.is_plain() && layout.data_type() == DataType::f32) return gradient;
  Tensor plain = gradient_buffer(Layout::plain(gradient.shape()));
  plain.copy_from(gradient);
  return plain;
}

std::vector<Parameter*> Layer::parameters() {
  std::vector<Parameter*> result;
  for (auto& parameter : parameters_) result.push_back(parameter.get());
  return result;
}

std::vector<Buffer*> Layer::buffers() {
  std::vector<Buffer*> result;
  for (auto& buffer : buffers_) result.push_back(buffer.get());
  return result;
}

Parameter& Layer::add_parameter(const std::string& name, const Shape& shape,
                                bool is_bias_or_norm) {
  parameters_.push_back(std::make_unique<Parameter>(
      Parameter{name, Tensor::zeros(shape), Tensor::zeros(shape), is_bias_or_norm}));
  return *parameters_.back();
}

Buffer& Layer::add_buffer(const std::string& name, const Shape& shape) {
  buffers_.push_back(std::make_unique<Buffer>(Buffer{name, Tensor::zeros(shape)}));
  return *buffers_.back();
}

void Layer::fail(const std::string& message) const { throw ShapeError(describe() + ": " + message); }

}  // namespace convoy
