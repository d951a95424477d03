#include "framework/graph/dropout_masks.hpp"

namespace convoy {

DropoutMasks::DropoutMasks(Net& net, uint64_t seed) {
  for (auto& [name, layer] : net.layers()) {
    if (auto* dropout = dynamic_cast<Dropout*>(layer)) {
      // Each layer its own stream: two Dropouts of one shape must not drop the same units.
      dropout->set_seed(seed * 1000003 + layers_.size());
      layers_.push_back(dropout);
    }
  }
}

void DropoutMasks::key(int64_t step, int64_t first_sample) {
  for (Dropout* dropout : layers_) dropout->set_mask_key(static_cast<uint64_t>(step), first_sample);
}

}  // namespace convoy
