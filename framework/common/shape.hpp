#pragma once
// Logical tensor dimensions (NCHW for images, NC for features), whatever the memory layout.

#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace convoy {

using Shape = std::vector<int64_t>;

inline int64_t element_count(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

// "(2, 3, 5, 5)": the form every shape appears in inside error messages.
inline std::string to_string(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + ")";
}

}  // namespace convoy
