#include "framework/distributed/collective_benchmark.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

TEST(CollectiveBenchmarkTest, RingBoundIsTwoTimesPMinusOneOverPOfTheBufferOverTheBandwidth) {
  // 1 GB at 1 GB/s: p=2 moves the buffer once, p=4 one and a half times, p=1 nothing.
  EXPECT_DOUBLE_EQ(allreduce_bandwidth_bound_seconds(1'000'000'000, 2, 1e9), 1.0);
  EXPECT_DOUBLE_EQ(allreduce_bandwidth_bound_seconds(1'000'000'000, 4, 1e9), 1.5);
  EXPECT_DOUBLE_EQ(allreduce_bandwidth_bound_seconds(1'000'000'000, 1, 1e9), 0.0);
}

TEST(CollectiveBenchmarkTest, EveryRankGetsTheSameFinitePositiveMeasurements) {
  Communicator communicator;
  const double seconds = measure_allreduce_seconds(communicator, 4096, 3);
  EXPECT_TRUE(std::isfinite(seconds));
  EXPECT_GT(seconds, 0.0);
  // Rank 0's figure is shared: every rank holds the same bits.
  std::vector<double> sum{communicator.rank() == 0 ? seconds : 0.0};
  communicator.allreduce_sum(std::span<double>(sum));
  EXPECT_EQ(sum[0], seconds);

  if (communicator.world_size() < 2) {
    EXPECT_THROW(measure_link_bandwidth(communicator, 1024, 1), ConfigError);
    return;
  }
  const double bandwidth = measure_link_bandwidth(communicator, 1 << 20, 3);
  EXPECT_TRUE(std::isfinite(bandwidth));
  EXPECT_GT(bandwidth, 1e6);  // more than 1 MB/s on any link this runs on
  std::vector<double> bandwidth_sum{communicator.rank() == 0 ? bandwidth : 0.0};
  communicator.allreduce_sum(std::span<double>(bandwidth_sum));
  EXPECT_EQ(bandwidth_sum[0], bandwidth);
}

TEST(CollectiveBenchmarkTest, RejectsSizesItCannotMeasure) {
  Communicator communicator;
  EXPECT_THROW(measure_allreduce_seconds(communicator, 0, 3), ConfigError);
  EXPECT_THROW(measure_allreduce_seconds(communicator, 16, 0), ConfigError);
}

}  // namespace
}  // namespace convoy
