// CheckpointDirectory: what a run folder holds after saves, including saves that follow a write
// a kill interrupted.

#include "checkpoints/checkpoint_directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "checkpoints/checkpoint_reader.hpp"
#include "datasets/temporary_directory.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

Checkpoint checkpoint_at(int64_t step) {
  Checkpoint c;
  c.recipe = "directory-test";
  c.step = step;
  c.global_batch = 8;
  c.schedule = {{"step", static_cast<double>(step)}, {"steps_per_epoch", 100.0}};
  c.data = {.sampler_seed = 1, .epoch = 0, .global_position = 8 * step};
  c.model = {{"conv1.weight", {1, 1, 1, 2}, {0.5f, -0.25f}}};
  return c;
}

// A kill -9 during a checkpoint write (or between the two renames) leaves its temporary file
// behind; each is as large as a checkpoint, and no later save used to remove them.
TEST(CheckpointDirectoryTest, ASaveRemovesTheTemporaryFilesOfInterruptedWrites) {
  TemporaryDirectory directory;
  const std::string run = directory.file("run");
  CheckpointDirectory checkpoints(run, 0);
  checkpoints.save(checkpoint_at(2));
  for (const char* name : {"checkpoint-step00000004.h5.tmp.4242", ".latest.tmp.4242"}) {
    std::ofstream(run + "/" + name) << "half a checkpoint";
  }
  std::ofstream(run + "/notes.tmp.1") << "not ours";
  checkpoints.save(checkpoint_at(3));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(run)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"checkpoint-step00000002.h5", "checkpoint-step00000003.h5",
                                      "latest", "notes.tmp.1"}));
  EXPECT_EQ(CheckpointReader::read(run + "/latest").step, 3);
}

}  // namespace
}  // namespace convoy::testing
