#include "datasets/distributed_sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// Concatenation over steps and ranks of every rank's indices: the global sample order.
std::vector<int64_t> global_order(int64_t size, int world, int64_t per_rank_batch, int64_t epoch,
                                  bool drop_last = true) {
  std::vector<DistributedSampler> samplers;
  for (int rank = 0; rank < world; ++rank)
    samplers.emplace_back(size, world, rank, 5, true, drop_last);
  std::vector<int64_t> order;
  for (int64_t step = 0; step < samplers[0].batches_per_epoch(per_rank_batch); ++step) {
    for (const DistributedSampler& sampler : samplers) {
      const std::vector<int64_t> indices = sampler.indices_for_step(epoch, step, per_rank_batch);
      order.insert(order.end(), indices.begin(), indices.end());
    }
  }
  return order;
}

TEST(DistributedSamplerTest, ShardsAreDisjointAndCoverTheEpochForWorldSizes1To4) {
  for (int world = 1; world <= 4; ++world) {
    const int64_t per_rank_batch = 12 / world;  // global batch 12 for every world size
    const int64_t size = 60;                    // 5 full global batches, nothing dropped
    std::vector<int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      const DistributedSampler sampler(size, world, rank, 7);
      ASSERT_EQ(sampler.batches_per_epoch(per_rank_batch), 5);
      for (int64_t step = 0; step < 5; ++step) {
        const std::vector<int64_t> indices = sampler.indices_for_step(3, step, per_rank_batch);
        ASSERT_EQ(static_cast<int64_t>(indices.size()), per_rank_batch);
        seen.insert(seen.end(), indices.begin(), indices.end());
      }
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(60);
    for (int64_t i = 0; i < 60; ++i) all[static_cast<size_t>(i)] = i;
    EXPECT_EQ(seen, all) << "world size " << world;
  }
}

TEST(DistributedSamplerTest, GlobalOrderIsTheSameForWorldSizes1And2And4) {
  const std::vector<int64_t> one = global_order(103, 1, 8, 2);
  EXPECT_EQ(one.size(), 96u);  // 12 global batches of 8, the last 7 samples dropped
  EXPECT_EQ(global_order(103, 2, 4, 2), one);
  EXPECT_EQ(global_order(103, 4, 2, 2), one);
  // And it is a prefix of the epoch permutation.
  const std::vector<int64_t> permutation = DistributedSampler(103, 1, 0, 5).permutation(2);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), permutation.begin()));
}

TEST(DistributedSamplerTest, PermutationIsDeterministicPerSeedAndEpoch) {
  const DistributedSampler sampler(1000, 2, 1, 11);
  const std::vector<int64_t> first = sampler.permutation(4);
  EXPECT_EQ(first, DistributedSampler(1000, 3, 0, 11).permutation(4));
  EXPECT_NE(first, sampler.permutation(5));
  EXPECT_NE(first, DistributedSampler(1000, 2, 1, 12).permutation(4));
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_NE(first, sorted);  // it did shuffle
  // The generator and Fisher-Yates are ours, so these values hold on any standard library.
  // A change of these values breaks resuming old checkpoints' data order: change it knowingly.
  EXPECT_EQ(DistributedSampler(8, 1, 0, 0).permutation(0),
            (std::vector<int64_t>{1, 6, 2, 0, 4, 7, 5, 3}));
}

TEST(DistributedSamplerTest, WithoutShuffleTheOrderIsTheIdentity) {
  const DistributedSampler sampler(10, 2, 1, 3, /*shuffle=*/false);
  EXPECT_EQ(sampler.indices_for_step(9, 1, 2), (std::vector<int64_t>{6, 7}));
}

TEST(DistributedSamplerTest, DropLastDropsTheIncompleteGlobalBatch) {
  const DistributedSampler sampler(10, 2, 0, 3, false, /*drop_last=*/true);
  EXPECT_EQ(sampler.batches_per_epoch(2), 2);  // global batch 4: 8 of 10 samples used
  testing::expect_error_mentioning<ConfigError>([&] { sampler.indices_for_step(0, 2, 2); },
                                                {"step 2", "[0, 2)"});
}

TEST(DistributedSamplerTest, PaddingWrapsAroundToTheStartOfThePermutation) {
  const DistributedSampler rank0(10, 2, 0, 3, false, /*drop_last=*/false);
  const DistributedSampler rank1(10, 2, 1, 3, false, /*drop_last=*/false);
  EXPECT_EQ(rank0.batches_per_epoch(2), 3);
  EXPECT_EQ(rank0.indices_for_step(0, 2, 2), (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(rank1.indices_for_step(0, 2, 2), (std::vector<int64_t>{0, 1}));
  // Shuffled: the padded tail repeats the first permutation positions.
  const std::vector<int64_t> order = global_order(10, 2, 2, 1, /*drop_last=*/false);
  ASSERT_EQ(order.size(), 12u);
  EXPECT_EQ(order[10], order[0]);
  EXPECT_EQ(order[11], order[1]);
  EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 10u);
}

TEST(DistributedSamplerTest, TooSmallDatasetForOneGlobalBatchIsAConfigError) {
  testing::expect_error_mentioning<ConfigError>(
      [] { DistributedSampler(5, 4, 0, 1).batches_per_epoch(2); },
      {"5 samples", "global batch of 8", "2 per rank x 4 ranks"});
}

TEST(DistributedSamplerTest, EvaluationShardsAreDisjointAndCoverEverySampleOnce) {
  for (int world = 1; world <= 4; ++world) {
    std::vector<int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      const std::vector<int64_t> shard = DistributedSampler(11, world, rank, 0).eval_indices();
      EXPECT_LE(shard.size(), 11u / static_cast<size_t>(world) + 1);
      seen.insert(seen.end(), shard.begin(), shard.end());
    }
    ASSERT_EQ(seen.size(), 11u) << "world " << world;
    for (int64_t i = 0; i < 11; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  }
  EXPECT_EQ(DistributedSampler(11, 4, 0, 0).eval_indices(3), (std::vector<int64_t>{9, 10}));
}

TEST(DistributedSamplerTest, RankOutsideTheWorldIsAConfigError) {
  testing::expect_error_mentioning<ConfigError>([] { DistributedSampler(10, 2, 2, 0); },
                                                {"world size 2", "rank 2"});
}

}  // namespace
}  // namespace convoy::data
