// DropoutMasks keys a net's Dropout layers by (seed, step, global sample): a sample's mask is the
// same however the global batch is split over ranks and micro-batches, a fresh process (a
// resumed run) draws the same masks for the same step, and two Dropouts draw different masks.

#include "framework/graph/dropout_masks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace convoy {
namespace {

std::unique_ptr<Net> two_dropouts() {
  auto net = std::make_unique<Net>();
  const auto first = net->add<Dropout>("drop1", DropoutOptions{0.5, 0}, {Net::kInput});
  net->add<Dropout>("drop2", DropoutOptions{0.5, 0}, {first});
  net->finalize();
  return net;
}

Tensor ones(int64_t samples) {
  return Tensor::from_plain({samples, 64}, std::vector<float>(samples * 64, 1.0f));
}

// The first Dropout's output for `samples` ones, keyed as sample `first_sample` of step `step`.
std::vector<float> first_mask(Net& net, DropoutMasks& masks, int64_t step, int64_t first_sample,
                              int64_t samples) {
  masks.key(step, first_sample);
  net.forward(ones(samples), Mode::train);
  return net.last_forward_outputs()[0].output.to_plain();
}

TEST(DropoutMasksTest, ASamplesMaskDependsOnItsStepAndPlaceOnlyNotOnTheSplitOrProcess) {
  auto whole_net = two_dropouts();
  DropoutMasks whole(*whole_net, 42);
  const std::vector<float> global_batch = first_mask(*whole_net, whole, 7, 0, 4);

  // Two ranks (or micro-batches) of two samples each, in a fresh process: the same masks.
  auto split_net = two_dropouts();
  DropoutMasks split(*split_net, 42);
  std::vector<float> halves = first_mask(*split_net, split, 7, 0, 2);
  const std::vector<float> second = first_mask(*split_net, split, 7, 2, 2);
  halves.insert(halves.end(), second.begin(), second.end());
  EXPECT_EQ(halves, global_batch);

  EXPECT_NE(first_mask(*split_net, split, 8, 0, 4), global_batch) << "another step";
  auto other_seed_net = two_dropouts();
  DropoutMasks other_seed(*other_seed_net, 43);
  EXPECT_NE(first_mask(*other_seed_net, other_seed, 7, 0, 4), global_batch) << "another seed";
}

TEST(DropoutMasksTest, TwoDropoutsOfOneShapeDropDifferentUnits) {
  auto net = two_dropouts();
  DropoutMasks masks(*net, 42);
  masks.key(0, 0);
  net->forward(ones(8), Mode::train);
  const auto outputs = net->last_forward_outputs();
  auto zeros = [](const std::vector<float>& values) {
    return std::count(values.begin(), values.end(), 0.0f);
  };
  // The second drops what the first dropped and, with its own mask, about half of the rest.
  const auto first = zeros(outputs[0].output.to_plain()),
             both = zeros(outputs[1].output.to_plain());
  EXPECT_GT(both, first + 8 * 64 / 8) << "the second Dropout drew the first one's mask";
}

}  // namespace
}  // namespace convoy
