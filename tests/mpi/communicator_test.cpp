#include "framework/distributed/communicator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/distributed/model_consistency.hpp"
#include "framework/distributed/rank_agreement.hpp"
#include "framework/layers/conv2d.hpp"

namespace convoy {
namespace {

using ::testing::StrEq;
using ::testing::ThrowsMessage;

TEST(CommunicatorTest, AllreduceSumsExactlyOverRanks) {
  Communicator communicator;
  const int n = communicator.world_size(), r = communicator.rank();
  std::vector<int64_t> counts{r + 1, 10};
  communicator.allreduce_sum(std::span<int64_t>(counts));
  EXPECT_EQ(counts[0], n * (n + 1) / 2);
  EXPECT_EQ(counts[1], 10 * n);
  std::vector<double> values{0.5 * r};
  communicator.allreduce_sum(std::span<double>(values));
  EXPECT_DOUBLE_EQ(values[0], 0.5 * n * (n - 1) / 2);
}

TEST(CommunicatorTest, BroadcastGivesEveryRankTheRootsValues) {
  Communicator communicator;
  std::vector<float> values(5, static_cast<float>(communicator.rank()));
  communicator.broadcast(std::span<float>(values), 0);
  EXPECT_EQ(values, std::vector<float>(5, 0.0f));
  std::string text = communicator.rank() == 0 ? "from rank zero" : "";
  communicator.broadcast(text, 0);
  EXPECT_EQ(text, "from rank zero");
}

TEST(CommunicatorTest, GatherCollectsEveryRanksTextInRankOrderOnTheRoot) {
  Communicator communicator;
  const int n = communicator.world_size(), r = communicator.rank();
  // Rank 0 sends nothing, rank r sends r letters: lengths differ, one is empty.
  const std::string text(static_cast<size_t>(r), static_cast<char>('a' + r));
  const int root = n - 1;
  const std::vector<std::string> gathered = communicator.gather(text, root);
  if (r != root) {
    EXPECT_TRUE(gathered.empty());
    return;
  }
  ASSERT_EQ(gathered.size(), static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(gathered[k], std::string(static_cast<size_t>(k), static_cast<char>('a' + k)));
  }
}

TEST(CommunicatorTest, KnowsTheRanksOnThisNode) {
  Communicator communicator;
  // mpiexec on one machine: every rank shares the node.
  EXPECT_EQ(communicator.local_size(), communicator.world_size());
  EXPECT_EQ(communicator.local_rank(), communicator.rank());
  EXPECT_GE(communicator.recommended_threads(), 1);
}

TEST(ModelConsistencyTest, PassesWhenEveryRankBuildsTheSameModel) {
  Communicator communicator;
  Net net;
  Conv2dOptions a;
  a.in_channels = 2;
  a.out_channels = 3;
  net.add<Conv2d>("conv", a, {Net::kInput});
  net.finalize();
  EXPECT_NO_THROW(verify_same_model(communicator, net));
}

TEST(ModelConsistencyTest, NamesTheFirstDifferingTensorAndRank) {
  Communicator communicator;
  if (communicator.world_size() < 2) GTEST_SKIP() << "needs two ranks to differ";
  Net net;
  Conv2dOptions a;
  a.in_channels = 2;
  a.out_channels = communicator.rank() == 1 ? 5 : 3;
  net.add<Conv2d>("conv", a, {Net::kInput});
  net.finalize();
  EXPECT_THAT([&] { verify_same_model(communicator, net); },
              ThrowsMessage<CollectiveError>(
                  StrEq("rank 1 builds conv.weight (5, 2, 1, 1) where rank 0 has conv.weight "
                        "(3, 2, 1, 1) (entry 0): every rank must build the same model")));
}

TEST(RankAgreementTest, PassesOnEqualListsAndNamesTheFirstDifferingRankAndEntry) {
  Communicator communicator;
  EXPECT_NO_THROW(verify_ranks_agree(communicator, {"a = 1", "b = 2"}, "runs with", "same"));
  if (communicator.world_size() < 2) GTEST_SKIP() << "needs two ranks to differ";
  // Every rank from 1 on differs; the message names the first and its first differing entry.
  const std::string b = communicator.rank() == 0 ? "b = 2" : "b = " + std::to_string(10 + communicator.rank());
  EXPECT_THAT([&] { verify_ranks_agree(communicator, {"a = 1", b}, "runs with", "the rule"); },
              ThrowsMessage<CollectiveError>(
                  StrEq("rank 1 runs with b = 11 where rank 0 has b = 2 (entry 1): the rule")));
  // A shorter list differs at its end.
  std::vector<std::string> entries{"a = 1"};
  if (communicator.rank() == 0) entries.push_back("b = 2");
  EXPECT_THAT([&] { verify_ranks_agree(communicator, entries, "runs with", "the rule"); },
              ThrowsMessage<CollectiveError>(StrEq(
                  "rank 1 runs with nothing more where rank 0 has b = 2 (entry 1): the rule")));
}

TEST(ModelConsistencyTest, BroadcastMakesParametersBitIdentical) {
  Communicator communicator;
  Net net;
  Conv2dOptions a;
  a.in_channels = 2;
  a.out_channels = 3;
  net.add<Conv2d>("conv", a, {Net::kInput});
  net.finalize();
  net.reset_parameters(100 + communicator.rank());  // different on every rank
  broadcast_parameters(communicator, net.parameters(), net.buffers());
  const uint64_t hash = hash_parameters(net.parameters());
  for (uint64_t other : communicator.allgather(hash)) EXPECT_EQ(other, hash);
}

}  // namespace
}  // namespace convoy
