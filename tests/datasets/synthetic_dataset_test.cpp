#include "datasets/synthetic_dataset.hpp"

#include <gtest/gtest.h>

#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

TEST(SyntheticDatasetTest, SamplesArePureFunctionsOfSeedAndIndex) {
  const SyntheticDataset first({3, 4, 5}, 7, 100, 42);
  const SyntheticDataset again({3, 4, 5}, 7, 100, 42);
  const SyntheticDataset other({3, 4, 5}, 7, 100, 43);
  EXPECT_EQ(first.size(), 100);
  EXPECT_EQ(first.class_count(), 7);
  EXPECT_EQ(*first.image_shape(), (Shape{3, 4, 5}));
  std::vector<int> per_class(7, 0);
  int differing = 0;
  for (int64_t i = 0; i < 100; ++i) {
    const Image image = first.read(i);
    ASSERT_EQ(image.pixels.size(), 60u);
    EXPECT_EQ(image.pixels, again.read(i).pixels);
    EXPECT_EQ(image.label, again.read(i).label);
    differing += image.pixels != other.read(i).pixels;
    ASSERT_GE(image.label, 0);
    ASSERT_LT(image.label, 7);
    ++per_class[static_cast<size_t>(image.label)];
  }
  EXPECT_EQ(differing, 100);
  for (int count : per_class) EXPECT_GT(count, 3);  // labels are spread over all classes
  EXPECT_NE(first.read(0).pixels, first.read(1).pixels);
}

TEST(SyntheticDatasetTest, RejectsNonPositiveSizes) {
  testing::expect_error_mentioning<ConfigError>(
      [] {
        SyntheticDataset({3, 0, 5}, 2, 10, 1);
      },
      {"(3, 0, 5)", "expected a positive"});
}

}  // namespace
}  // namespace convoy::data
