// `convoy train --dataset hdf5`: the files `convoy convert` writes train and evaluate as the
// dataset they came from; one file given for both splits is refused (it would be scored on the
// images it trains on).

#include <gtest/gtest.h>

#include <filesystem>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

TEST(Hdf5TrainingTest, TrainsOnConvertedSplitsAndRefusesOneFileForBoth) {
  const std::string dir = fresh_directory("hdf5-training");
  ASSERT_EQ(run_convoy("convert --split train --train-samples 64 --output " + dir + "/train.h5")
                .exit_code,
            0);
  ASSERT_EQ(
      run_convoy("convert --split test --test-samples 32 --output " + dir + "/test.h5").exit_code,
      0);
  const std::string run =
      "train --recipe fashion-resnet20 --dataset hdf5 --batch-size 32 "
      "--max-steps 2 --threads 1 --progress lines --run-dir " +
      dir + "/run --data-dir ";
  auto trained = run_convoy(run + dir);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("(32 images)"), std::string::npos)
      << "evaluated on test.h5's 32 images\n"
      << trained.output;

  auto one_file = run_convoy(run + dir + "/train.h5");
  EXPECT_EQ(one_file.exit_code, 1) << one_file.output;
  EXPECT_EQ(one_file.output, "convoy: --data-dir " + dir +
                                 "/train.h5 is one HDF5 file, which train would both train and "
                                 "evaluate on; give the folder holding its train.h5 and test.h5 "
                                 "(convoy convert --split train, --split test)\n");
}

}  // namespace
}  // namespace convoy::testing
