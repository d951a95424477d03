#include "framework/distributed/reducer.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "framework/distributed/model_consistency.hpp"
#include "framework/distributed/sync_batch_norm.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/layers/flatten.hpp"
#include "framework/layers/linear.hpp"
#include "framework/loss/softmax_cross_entropy.hpp"
#include "framework/optim/sgd.hpp"

namespace convoy {
namespace {

// Parameters outside any Net: gradients are separate allocations (the fusion-buffer path).
struct LooseParameters {
  std::vector<std::unique_ptr<Parameter>> owned;
  std::vector<NamedParameter> list;
  explicit LooseParameters(const std::vector<int64_t>& sizes) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      owned.push_back(std::make_unique<Parameter>(
          Parameter{"p", Tensor::zeros({sizes[i]}), Tensor::zeros({sizes[i]})}));
      list.push_back({"p" + std::to_string(i), owned.back().get()});
    }
  }
};

void fill_known_gradients(LooseParameters& parameters, int rank) {
  for (size_t i = 0; i < parameters.list.size(); ++i) {
    Tensor& grad = parameters.list[i].parameter->grad;
    for (int64_t k = 0; k < grad.element_count(); ++k)
      grad.plain_data()[k] = float(rank + 1) * (i + 1) + k;
  }
}

TEST(ReducerTest, SumsEveryGradientOverRanksAcrossSeveralBuckets) {
  Communicator communicator;
  const int n = communicator.world_size();
  LooseParameters parameters({7, 300, 5, 1000, 33});
  ReducerOptions options;
  options.bucket_bytes = 1200 * sizeof(float) / 3;  // several buckets
  Reducer reducer(communicator, parameters.list, options);
  EXPECT_GE(reducer.buckets().size(), 3u);
  for (int step = 0; step < 2; ++step) {
    fill_known_gradients(parameters, communicator.rank());
    reducer.start_step();
    for (int index = 4; index >= 0; --index) {
      const int indices[] = {index};
      reducer.gradients_ready(indices);
    }
    reducer.finalize();
    for (size_t i = 0; i < parameters.list.size(); ++i) {
      const Tensor& grad = parameters.list[i].parameter->grad;
      for (int64_t k = 0; k < grad.element_count(); ++k) {
        // sum over r of (r + 1) * (i + 1) + k
        const double expected = (i + 1.0) * n * (n + 1) / 2 + double(k) * n;
        ASSERT_EQ(grad.plain_data()[k], expected) << "parameter " << i << " element " << k;
      }
    }
  }
}

TEST(ReducerTest, Bf16CompressionStaysWithinBf16Precision) {
  Communicator communicator;
  LooseParameters parameters({513, 64});
  ReducerOptions options;
  options.compress_bf16 = true;
  Reducer reducer(communicator, parameters.list, options);
  fill_known_gradients(parameters, communicator.rank());
  reducer.start_step();
  const int indices[] = {1, 0};
  reducer.gradients_ready(indices);
  reducer.finalize();
  const int n = communicator.world_size();
  for (size_t i = 0; i < parameters.list.size(); ++i) {
    const Tensor& grad = parameters.list[i].parameter->grad;
    for (int64_t k = 0; k < grad.element_count(); ++k) {
      const double expected = (i + 1.0) * n * (n + 1) / 2 + double(k) * n;
      // bf16 keeps 8 significant bits: relative error 2^-8 per rounding, a few roundings.
      ASSERT_NEAR(grad.plain_data()[k], expected, std::abs(expected) * 4 * std::ldexp(1.0, -8));
    }
  }
}

// A small network: conv -> [bn] -> relu -> conv -> flatten -> linear.
std::unique_ptr<Net> small_net(bool batch_norm) {
  auto net = std::make_unique<Net>();
  Conv2dOptions a;
  a.in_channels = 2;
  a.out_channels = 8;
  a.kernel = 3;
  a.padding = 1;
  a.bias = !batch_norm;  // a bias before BatchNorm has no gradient, only rounding noise
  auto x = net->add<Conv2d>("conv1", a, {Net::kInput});
  if (batch_norm) x = net->add<BatchNorm2d>("bn1", BatchNorm2dOptions{8}, {x});
  x = net->add<Activation>("relu", relu(), {x});
  Conv2dOptions b = a;
  b.in_channels = 8;
  b.out_channels = 4;
  b.stride = 2;
  x = net->add<Conv2d>("conv2", b, {x});
  x = net->add<Flatten>("flatten", FlattenOptions{}, {x});
  net->add<Linear>("fc", LinearOptions{4 * 3 * 3, 5, true}, {x});
  net->finalize();
  net->reset_parameters(7);
  return net;
}

struct GlobalBatch {
  std::vector<float> images;
  std::vector<int32_t> labels;
};

GlobalBatch global_batch(int64_t size) {
  GlobalBatch batch;
  std::mt19937_64 generator(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  batch.images.resize(size * 2 * 6 * 6);
  for (auto& v : batch.images) v = uniform(generator);
  for (int64_t i = 0; i < size; ++i) batch.labels.push_back(static_cast<int32_t>(i % 5));
  return batch;
}

// forward + loss (scaled by the global batch) + backward on samples [first, first + count).
void compute_gradients(Net& net, const GlobalBatch& batch, int64_t first, int64_t count,
                       int64_t global, Reducer* reducer) {
  const int64_t image = 2 * 6 * 6;
  std::vector<float> images(batch.images.begin() + first * image,
                            batch.images.begin() + (first + count) * image);
  std::vector<int32_t> labels(batch.labels.begin() + first, batch.labels.begin() + first + count);
  Tensor logits = net.forward(Tensor::from_plain({count, 2, 6, 6}, images), Mode::train);
  SoftmaxCrossEntropy loss;
  loss.forward(logits, labels, static_cast<double>(global));
  if (reducer) reducer->start_step();
  net.backward(loss.gradient(), [&](std::span<const int> indices) {
    if (reducer) reducer->gradients_ready(indices);
  });
  if (reducer) reducer->finalize();
}

// One process's "sum over ranks" is the identity: the reference net runs the same synchronized
// BatchNorm arithmetic as the distributed one, on the whole batch.
struct SingleProcessReducer : StatisticsReducer {
  void allreduce_sum(std::span<double>) override {}
};

void expect_same_gradients_as_one_process(bool batch_norm) {
  Communicator communicator;
  const int n = communicator.world_size();
  const int64_t per_rank = 3, global = per_rank * n;
  const GlobalBatch batch = global_batch(global);

  auto reference = small_net(batch_norm);  // one process, whole global batch
  auto distributed = small_net(batch_norm);
  std::unique_ptr<StatisticsReducer> sync;
  SingleProcessReducer single_process;
  if (batch_norm) {
    sync = enable_sync_batch_norm(*distributed, communicator);
    dynamic_cast<BatchNorm2d&>(reference->layer("bn1")).set_statistics_reducer(&single_process);
  }
  ReducerOptions options;
  options.bucket_bytes = 1024;  // several buckets, launched during backward
  Reducer reducer(communicator, distributed->parameters(), options);
  SgdOptions sgd;
  sgd.momentum = 0.9;
  SGD reference_optimizer(reference->parameters(), sgd);
  SGD distributed_optimizer(distributed->parameters(), sgd);

  for (int step = 0; step < 4; ++step) {
    compute_gradients(*reference, batch, 0, global, global, nullptr);
    compute_gradients(*distributed, batch, communicator.rank() * per_rank, per_rank, global,
                      &reducer);
    for (size_t i = 0; i < reference->parameters().size(); ++i) {
      const auto expected = reference->parameters()[i].parameter->grad.to_plain();
      const auto actual = distributed->parameters()[i].parameter->grad.to_plain();
      // Norm-wise relative error ||actual - expected|| / ||expected||: per-element ratios of
      // near-zero gradients only measure the order in which ranks summed.
      double difference = 0, norm = 0;
      for (size_t k = 0; k < expected.size(); ++k) {
        difference += std::pow(double(actual[k]) - expected[k], 2);
        norm += std::pow(double(expected[k]), 2);
      }
      EXPECT_LT(std::sqrt(difference / norm), 1e-5)
          << "step " << step << " " << reference->parameters()[i].name;
    }
    reference_optimizer.step(0.1);
    distributed_optimizer.step(0.1);
  }
  for (size_t i = 0; i < reference->parameters().size(); ++i) {
    const auto expected = reference->parameters()[i].parameter->value.to_plain();
    const auto actual = distributed->parameters()[i].parameter->value.to_plain();
    for (size_t k = 0; k < expected.size(); ++k) {
      ASSERT_NEAR(actual[k], expected[k], 1e-5 * std::max(1.0f, std::abs(expected[k])))
          << reference->parameters()[i].name << "[" << k << "] after 4 steps";
    }
  }
  const uint64_t hash = hash_parameters(distributed->parameters());
  for (uint64_t other : communicator.allgather(hash)) {
    EXPECT_EQ(other, hash) << "parameters must be bit-identical on every rank";
  }
}

TEST(DataParallelTest, GradientsAndStepsMatchOneProcessOnTheGlobalBatch) {
  expect_same_gradients_as_one_process(/*batch_norm=*/false);
}

TEST(DataParallelTest, SyncBatchNormMatchesOneProcessOnTheGlobalBatch) {
  expect_same_gradients_as_one_process(/*batch_norm=*/true);
}

}  // namespace
}  // namespace convoy
