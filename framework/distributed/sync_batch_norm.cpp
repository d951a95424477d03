#include "framework/distributed/sync_batch_norm.hpp"

#include "framework/layers/batch_norm2d.hpp"

namespace convoy {

std::unique_ptr<StatisticsReducer> enable_sync_batch_norm(Net& net, Communicator& communicator,
                                                          int* connected) {
  auto reducer = std::make_unique<MpiStatisticsReducer>(communicator);
  int count = 0;
  for (auto& [name, layer] : net.layers()) {
    if (auto* batch_norm = dynamic_cast<BatchNorm2d*>(layer)) {
      batch_norm->set_statistics_reducer(reducer.get());
      ++count;
    }
  }
  if (connected) *connected = count;
  return reducer;
}

}  // namespace convoy
