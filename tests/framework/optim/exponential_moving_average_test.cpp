#include "framework/optim/exponential_moving_average.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "framework/common/error.hpp"
#include "framework/layers/batch_norm2d.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// BatchNorm2d(1): two parameters (weight, bias) and three buffers (running_mean, running_var,
// num_batches_tracked), which the average covers too.
std::unique_ptr<Net> small_net() {
  auto net = std::make_unique<Net>();
  net->add<BatchNorm2d>("bn", BatchNorm2dOptions{.channels = 1}, {Net::kInput});
  net->finalize();
  net->reset_parameters(3);
  return net;
}

// Every parameter and buffer value, in the average's order.
std::vector<float> net_values(const Net& net) {
  std::vector<float> values;
  for (const auto& named : net.parameters()) {
    const auto plain = named.parameter->value.to_plain();
    values.insert(values.end(), plain.begin(), plain.end());
  }
  for (const auto& named : net.buffers()) {
    const auto plain = named.buffer->value.to_plain();
    values.insert(values.end(), plain.begin(), plain.end());
  }
  return values;
}

void set_net_values(Net& net, float first) {
  float value = first;
  for (const auto& named : net.parameters()) {
    auto& tensor = named.parameter->value;
    tensor.copy_from_plain(
        std::vector<float>(static_cast<size_t>(tensor.element_count()), value++));
  }
  for (const auto& named : net.buffers()) {
    auto& tensor = named.buffer->value;
    tensor.copy_from_plain(
        std::vector<float>(static_cast<size_t>(tensor.element_count()), value++));
  }
}

std::vector<float> as_vector(std::span<const float> values) {
  return {values.begin(), values.end()};
}

TEST(ExponentialMovingAverageTest, TheFirstUpdateCopiesThenEachBlendsInFloat) {
  auto net = small_net();
  ExponentialMovingAverage average(*net, 0.75);
  ASSERT_EQ(average.values().size(), 5u) << "weight, bias, running mean, var, batches tracked";
  set_net_values(*net, 1.0f);
  average.update();
  const std::vector<float> first = net_values(*net);
  EXPECT_EQ(as_vector(average.values()), first);
  set_net_values(*net, 10.0f);
  average.update();
  const std::vector<float> second = net_values(*net);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(average.values()[i], 0.75f * first[i] + 0.25f * second[i]) << "value " << i;
  }
  EXPECT_EQ(average.values()[4], second[4]) << "num_batches_tracked counts, it is not averaged";
  EXPECT_EQ(average.updates(), 2);
  EXPECT_EQ(net_values(*net), second) << "updating leaves the Net alone";

  average.restart();
  set_net_values(*net, -4.0f);
  average.update();
  EXPECT_EQ(as_vector(average.values()), net_values(*net)) << "after restart() it copies";
  EXPECT_EQ(average.updates(), 1);
}

TEST(ExponentialMovingAverageTest, SwappingExchangesTheBitsBothWays) {
  auto net = small_net();
  ExponentialMovingAverage average(*net, 0.5);
  set_net_values(*net, 1.0f);
  average.update();
  set_net_values(*net, 3.0f);
  average.update();  // average: 2, 3, 4, 5, 6 (of 1..5 and 3..7)
  const std::vector<float> weights = net_values(*net), averaged = as_vector(average.values());
  average.swap_with_net();
  EXPECT_EQ(net_values(*net), averaged);
  EXPECT_EQ(as_vector(average.values()), weights);
  average.swap_with_net();
  EXPECT_EQ(std::memcmp(net_values(*net).data(), weights.data(), weights.size() * sizeof(float)),
            0);
  EXPECT_EQ(as_vector(average.values()), averaged);
}

TEST(ExponentialMovingAverageTest, ADecayOutsideZeroToOneIsRefusedByValue) {
  auto net = small_net();
  EXPECT_THROW(ExponentialMovingAverage(*net, 1.0), ConfigError);
  EXPECT_THAT([&] { ExponentialMovingAverage(*net, -0.5); },
              ThrowsMessage<ConfigError>(HasSubstr("must be in [0, 1), got -0.5")));
}

}  // namespace
}  // namespace convoy
