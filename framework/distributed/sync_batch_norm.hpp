#pragma once
// Synchronized BatchNorm (--sync-bn): every BatchNorm2d of a net computes its batch statistics,
// and their gradients, over the global batch of all ranks, through an MPI StatisticsReducer.

#include <memory>

#include "framework/distributed/communicator.hpp"
#include "framework/graph/net.hpp"
#include "framework/layers/statistics_reducer.hpp"

namespace convoy {

class MpiStatisticsReducer : public StatisticsReducer {
 public:
  explicit MpiStatisticsReducer(Communicator& communicator) : communicator_(communicator) {}
  void allreduce_sum(std::span<double> values) override { communicator_.allreduce_sum(values); }

 private:
  Communicator& communicator_;
};

// Connects every BatchNorm2d of `net` to the returned reducer (keep it alive as long as the net
// trains). Returns the number of layers connected through `connected` when not null.
std::unique_ptr<StatisticsReducer> enable_sync_batch_norm(Net& net, Communicator& communicator,
                                                          int* connected = nullptr);

}  // namespace convoy
