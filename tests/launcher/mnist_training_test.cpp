// `convoy train --dataset mnist`: a folder in MNIST's layout trains whether its files are
// gzipped, as MNIST ships, or unpacked, as torchvision's MNIST class leaves them.

#include <gtest/gtest.h>

#include "datasets/file_bytes.hpp"
#include "support/command_runner.hpp"
#include "support/idx_files.hpp"

namespace convoy::testing {
namespace {

TEST(MnistTrainingTest, TrainsOnUnpackedFiles) {
  const std::string dir = fresh_directory("mnist-unpacked");
  data::write_file_bytes(dir + "/train-images-idx3-ubyte", idx_images_file(64, 28, 28));
  data::write_file_bytes(dir + "/train-labels-idx1-ubyte", idx_labels_file(64));
  data::write_file_bytes(dir + "/t10k-images-idx3-ubyte", idx_images_file(32, 28, 28));
  data::write_file_bytes(dir + "/t10k-labels-idx1-ubyte", idx_labels_file(32));
  auto trained = run_convoy(
      "train --recipe fashion-resnet20 --dataset mnist --batch-size 32 --max-steps 1 "
      "--threads 1 --progress lines --run-dir " +
      dir + "/run --data-dir " + dir);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("test: IDX " + dir + "/t10k-images-idx3-ubyte"), std::string::npos)
      << trained.output;
  EXPECT_NE(trained.output.find("(32 images)"), std::string::npos) << trained.output;
}

}  // namespace
}  // namespace convoy::testing
