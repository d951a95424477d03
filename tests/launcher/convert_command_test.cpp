// `convoy convert` end to end: a split written as an HDF5 dataset, and a write that fails.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

// A file-size limit (ulimit -f, SIGXFSZ ignored so write() fails with EFBIG) stands in for a
// full disk. HDF5 meets the failure itself here, and its shutdown at exit used to crash on the
// file whose flush failed (signal 11 after the message); the launcher now ends without running
// the exit handlers. PMIx keeps its singleton data in memory (gds hash) under the limit.
TEST(ConvertCommandTest, AWriteThatFailsIsOneLineExitOneAndLeavesNoFile) {
  const std::string dir = fresh_directory("convert-write-fails");
  const std::string output = dir + "/test.h5";
  auto result = run_command("trap '' XFSZ; ulimit -f 1024; PMIX_MCA_gds=hash OMP_NUM_THREADS=1 "
                            "exec " + std::string(CONVOY_BINARY) +
                            " convert --dataset fashion-mnist --split test --output " + output);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.standard_error.rfind("convoy: HDF5 ", 0), 0u) << result.standard_error;
  EXPECT_NE(result.standard_error.find(output), std::string::npos) << result.standard_error;
  EXPECT_NE(result.standard_error.find("File too large"), std::string::npos)
      << result.standard_error;
  EXPECT_EQ(std::count(result.standard_error.begin(), result.standard_error.end(), '\n'), 1)
      << result.standard_error;
  EXPECT_TRUE(fs::is_empty(dir)) << "neither the output nor its temporary file may remain";

  // Without the limit the same command writes the 10 000 test images.
  auto converted =
      run_convoy("convert --dataset fashion-mnist --split test --output " + output);
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  EXPECT_GT(fs::file_size(output), 10000u * 28 * 28);
}

// --chunk-images 0 was a ConfigError (exit 1) raised after the dataset was opened; every other
// bad option value is a usage error, exit 2, before any work.
TEST(ConvertCommandTest, ANonPositiveChunkSizeIsAUsageError) {
  const std::string dir = fresh_directory("convert-chunk-zero");
  const std::string output = dir + "/test.h5";
  auto result = run_convoy("convert --dataset synthetic --split test --test-samples 4 "
                           "--chunk-images 0 --output " + output);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.standard_error, "convoy: --chunk-images must be at least 1, got 0\n");
  EXPECT_TRUE(fs::is_empty(dir));
}

// A missing output directory was named only through the temporary file's name; a directory as
// the output was found when renaming onto it, after every sample had been converted.
TEST(ConvertCommandTest, AnOutputThatCannotBeWrittenIsNamedBeforeConverting) {
  const std::string dir = fresh_directory("convert-bad-output");
  auto missing = run_convoy("convert --dataset synthetic --split test --test-samples 4 --output " +
                            dir + "/no/such/test.h5");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  const std::string missing_directory = dir + "/no/such";
  EXPECT_EQ(missing.standard_error, "convoy: convert to '" + missing_directory + "/test.h5': the "
                                    "directory '" + missing_directory + "' does not exist\n");
  auto directory =
      run_convoy("convert --dataset synthetic --split test --test-samples 4 --output " + dir);
  EXPECT_EQ(directory.exit_code, 1) << directory.output;
  const std::string expected =
      "convoy: convert to '" + dir + "': it is a directory; expected the HDF5 file to write\n";
  EXPECT_EQ(directory.standard_error, expected);
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
}  // namespace convoy::testing
