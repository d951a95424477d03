#pragma once
// BinaryAdd: destination = a + b (optionally relu(a + b)) with oneDNN's binary primitive, in
// the layout of `a`; `b` may arrive in any layout of the same dims.

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct BinaryAddConfig {
  Layout first;  // the output takes this layout
  bool fuse_relu = false;
};

class BinaryAdd {
 public:
  explicit BinaryAdd(const BinaryAddConfig& config);
  ~BinaryAdd();
  BinaryAdd(BinaryAdd&&) noexcept;
  BinaryAdd& operator=(BinaryAdd&&) noexcept;

  const BinaryAddConfig& config() const;
  void forward(const Memory& first, const Memory& second, const Memory& destination);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
