#pragma once
// SubsetDataset: the first `count` samples of another dataset (quick runs, tests).

#include <algorithm>
#include <memory>

#include "datasets/dataset.hpp"

namespace convoy::data {

class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::unique_ptr<Dataset> base, int64_t count)
      : base_(std::move(base)), count_(std::min(count, base_->size())) {}

  int64_t size() const override { return count_; }
  const std::vector<std::string>& class_names() const override { return base_->class_names(); }
  std::optional<Shape> image_shape() const override { return base_->image_shape(); }
  Image read(int64_t index) const override {
    check_index(index);
    return base_->read(index);
  }
  std::string describe_sample(int64_t index) const override {
    return base_->describe_sample(index);
  }
  std::string source() const override {
    return base_->source() + " (first " + std::to_string(count_) + ")";
  }

 private:
  std::unique_ptr<Dataset> base_;
  int64_t count_;
};

}  // namespace convoy::data
