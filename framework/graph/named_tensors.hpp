#pragma once
// Parameters and buffers under their full torchvision-style names ("layer1.0.conv1.weight"):
// the one list that optimizer, allreduce and checkpoint each loop over.

#include <string>
#include <vector>

#include "framework/layers/layer.hpp"

namespace convoy {

struct NamedParameter {
  std::string name;
  Parameter* parameter;
};

struct NamedBuffer {
  std::string name;
  Buffer* buffer;
};

}  // namespace convoy
