#include "datasets/dataset.hpp"

#include "framework/common/error.hpp"

namespace convoy::data {

void Dataset::check_index(int64_t index) const {
  if (index < 0 || index >= size()) {
    throw ConfigError("dataset " + source() + ": sample index " + std::to_string(index) +
                      " is outside [0, " + std::to_string(size()) + ")");
  }
}

std::string Dataset::describe_sample(int64_t index) const {
  return source() + " sample " + std::to_string(index);
}

}  // namespace convoy::data
