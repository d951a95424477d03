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

TEST(GradientBufferPoolTest, ReusesTheSmallestFreeBlockThatFitsWhateverTheLayout) {
  GradientBufferPool pool;
  Tensor small = pool.acquire(Layout::plain({4, 8}));   // 128 bytes
  Tensor large = pool.acquire(Layout::plain({16, 8}));  // 512 bytes
  void* small_data = small.memory().data();
  void* large_data = large.memory().data();
  small = large = Tensor();
  // Same bytes, other dims and type: the 128-byte block serves a bf16 (8, 8).
  Tensor other = pool.acquire(Layout::plain({8, 8}, DataType::bf16));
  EXPECT_EQ(other.memory().data(), small_data);
  EXPECT_EQ(other.shape(), (Shape{8, 8}));
  EXPECT_EQ(other.layout().data_type(), DataType::bf16);
  // The small block is busy now; the next request that fits only the large one gets it.
  Tensor next = pool.acquire(Layout::plain({2, 8}));
  EXPECT_EQ(next.memory().data(), large_data);
  EXPECT_EQ(pool.buffer_count(), 2u);
  EXPECT_EQ(pool.bytes(), 128u + 512u);
}

TEST(GradientBufferPoolTest, GrowsTheLargestFreeBlockWhenNoneFits) {
  GradientBufferPool pool;
  Tensor a = pool.acquire(Layout::plain({8}));
  Tensor b = pool.acquire(Layout::plain({16}));
  Tensor held = pool.acquire(Layout::plain({4}));
  a = b = Tensor();
  Tensor big = pool.acquire(Layout::plain({64}));  // 256 bytes: neither free block fits
  EXPECT_EQ(pool.buffer_count(), 3u) << "the 64-byte block was replaced, not kept beside";
  EXPECT_EQ(pool.bytes(), 32u + 256u + 16u);
  EXPECT_EQ(pool.buffers_in_use(), 2u);
  big.copy_from_plain(std::vector<float>(64, 1.0f));  // the whole view is writable
  EXPECT_EQ(held.to_plain().size(), 4u);
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
