// `convoy train` saving checkpoints that cannot be written: the run ends with one line naming
// the file and leaves earlier checkpoints as they were.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "checkpoints/checkpoint_reader.hpp"
#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

// 64 training images in global batches of 32: two steps per epoch, a second or two per run.
const std::string kTinyRun =
    "train --recipe fashion-resnet20 --train-samples 64 --test-samples 64 --batch-size 32 "
    "--threads 1 --workers 1 --progress lines --warmup-epochs 0 ";

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A file-size limit (ulimit -f, with SIGXFSZ ignored so write() fails with EFBIG) stands in for
// a full disk: the first checkpoint fits, the second one is larger (it adds the model EMA) and
// does not. HDF5 used to meet the failure itself and crash at exit (signal 11). PMIx keeps its
// singleton data in memory (gds hash) instead of shared-memory files the limit would cut.
TEST(CheckpointResumeTest, AFailedCheckpointWriteIsOneLineExitOneAndKeepsTheEarlierCheckpoint) {
  const std::string dir = fresh_directory("resume-write-fails");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  const std::string earlier = dir + "/checkpoint-step00000002.h5";
  ASSERT_TRUE(fs::exists(earlier));
  const auto limit_kib = fs::file_size(earlier) * 6 / 5 / 1024;
  auto result = run_command("trap '' XFSZ; ulimit -f " + std::to_string(limit_kib) +
                            "; PMIX_MCA_gds=hash OMP_NUM_THREADS=1 exec " + CONVOY_BINARY + " " +
                            kTinyRun + "--run-dir " + dir + " --max-steps 4 --model-ema true");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const std::string message = "convoy: cannot write checkpoint '" + dir +
                              "/checkpoint-step00000004.h5': File too large after ";
  EXPECT_EQ(result.standard_error.rfind(message, 0), 0u) << result.standard_error;
  EXPECT_EQ(std::count(result.standard_error.begin(), result.standard_error.end(), '\n'), 1)
      << result.standard_error;
  EXPECT_NE(result.standard_error.find("earlier checkpoints are untouched"), std::string::npos);
  EXPECT_EQ(files_in(dir),
            (std::vector<std::string>{"checkpoint-step00000002.h5", "latest", "metrics.jsonl"}))
      << "the temporary file is removed";
  EXPECT_EQ(fs::read_symlink(dir + "/latest"), "checkpoint-step00000002.h5");
  EXPECT_EQ(CheckpointReader::read(earlier).step, 2);
}

}  // namespace
}  // namespace convoy::testing
