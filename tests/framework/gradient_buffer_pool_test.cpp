#include "framework/gradient_buffer_pool.hpp"

#include <gtest/gtest.h>

namespace convoy {
namespace {

TEST(GradientBufferPoolTest, ReusesABufferOnlyOnceNoTensorOutsideThePoolHoldsIt) {
  GradientBufferPool pool;
  const Layout layout = Layout::plain({2, 3, 4, 4});
  Tensor first = pool.acquire(layout);
  Tensor second = pool.acquire(layout);
  EXPECT_NE(first.memory().data(), second.memory().data()) << "both are still held";
  EXPECT_EQ(pool.buffer_count(), 2u);
  EXPECT_EQ(pool.buffers_in_use(), 2u);

  Tensor copy = first;  // a copy shares the buffer, so it keeps it busy
  void* first_data = first.memory().data();
  first = Tensor();
  Tensor third = pool.acquire(layout);
  EXPECT_NE(third.memory().data(), first_data);
  EXPECT_EQ(pool.buffer_count(), 3u);

  copy = Tensor();
  Tensor fourth = pool.acquire(layout);
  EXPECT_EQ(fourth.memory().data(), first_data) << "the last handle is gone: reused";
  EXPECT_EQ(pool.buffer_count(), 3u);
  EXPECT_EQ(pool.bytes(), 3 * layout.bytes());
}

TEST(GradientBufferPoolTest, ReusesOnlyForTheSameLayout) {
  GradientBufferPool pool;
  void* data = pool.acquire(Layout::plain({4, 8})).memory().data();  // released at once
  Tensor other = pool.acquire(Layout::plain({8, 4}));                // same bytes, other dims
  EXPECT_NE(other.memory().data(), data);
  Tensor same = pool.acquire(Layout::plain({4, 8}));
  EXPECT_EQ(same.memory().data(), data);
  EXPECT_EQ(same.shape(), (Shape{4, 8}));
  EXPECT_EQ(pool.buffer_count(), 2u);
}

TEST(GradientBufferPoolTest, HeldOnlyByIsTrueForAPoolBufferWithASingleOutsideHandle) {
  GradientBufferPool pool;
  Tensor gradient = pool.acquire(Layout::plain({16}));
  EXPECT_TRUE(pool.held_only_by(gradient));
  Tensor alias = gradient;
  EXPECT_FALSE(pool.held_only_by(gradient)) << "an alias would see in-place updates";
  alias = Tensor();
  EXPECT_TRUE(pool.held_only_by(gradient));
  EXPECT_FALSE(pool.held_only_by(Tensor::zeros({16}))) << "not the pool's buffer";
  EXPECT_FALSE(pool.held_only_by(Tensor()));
}

}  // namespace
}  // namespace convoy
