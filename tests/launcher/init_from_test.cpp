// `convoy train --init-from CHECKPOINT [--init-skip PREFIXES]`: a fresh run that starts from
// another run's weights (fine-tuning), with the named tensors left as this run initializes them.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "checkpoints/checkpoint_reader.hpp"
#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

// 64 training images in global batches of 32: two steps per epoch, a second or two per run.
const std::string kTinyRun =
    "train --recipe fashion-resnet20 --train-samples 64 --test-samples 64 --batch-size 32 "
    "--threads 1 --workers 1 --progress lines --warmup-epochs 0 --epochs 2 ";

const NamedArray& tensor(const Checkpoint& checkpoint, const std::string& name) {
  const auto found = std::find_if(checkpoint.model.begin(), checkpoint.model.end(),
                                  [&](const NamedArray& array) { return array.name == name; });
  if (found == checkpoint.model.end()) throw std::runtime_error("no tensor " + name);
  return *found;
}

// At learning rate 0 no parameter moves (BatchNorm's running statistics still do), so each
// parameter of the fine-tuned run's last checkpoint is where the run started.
TEST(InitFromTest, AFreshRunStartsFromTheCheckpointsWeightsButTheSkippedOnes) {
  const std::string dir = fresh_directory("init-from");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + "/source").exit_code, 0);
  const std::string source_path = dir + "/source/latest";
  const Checkpoint source = CheckpointReader::read(source_path);
  ASSERT_EQ(run_convoy(kTinyRun + "--lr 0 --run-dir " + dir + "/fresh").exit_code, 0);
  const Checkpoint fresh = CheckpointReader::read(dir + "/fresh/latest");

  auto tuned_run = run_convoy(kTinyRun + "--lr 0 --run-dir " + dir + "/tuned --init-from " +
                              source_path + " --init-skip fc,layer3.2");
  ASSERT_EQ(tuned_run.exit_code, 0) << tuned_run.output;
  EXPECT_NE(tuned_run.output.find("initialized from " + source_path +
                                  " (recipe fashion-resnet20, step 4): 114 tensors; 14 freshly "
                                  "initialized under --init-skip fc,layer3.2\n"),
            std::string::npos)
      << tuned_run.output;
  const Checkpoint tuned = CheckpointReader::read(dir + "/tuned/latest");
  for (const std::string name : {"conv1.weight", "layer1.0.bn1.bias", "layer3.1.conv2.weight"}) {
    EXPECT_EQ(tensor(tuned, name).values, tensor(source, name).values) << name;
    EXPECT_NE(tensor(tuned, name).values, tensor(fresh, name).values) << name;
  }
  for (const std::string name : {"fc.weight", "fc.bias", "layer3.2.conv1.weight"}) {
    EXPECT_EQ(tensor(tuned, name).values, tensor(fresh, name).values) << name;
    EXPECT_NE(tensor(tuned, name).values, tensor(source, name).values) << name;
  }
  EXPECT_EQ(tuned.step, 4) << "the step count starts anew";

  // Started again, the run resumes its own checkpoint and says the weights are not used.
  auto again = run_convoy(kTinyRun + "--lr 0 --run-dir " + dir + "/tuned --init-from " +
                          source_path + " --init-skip fc,layer3.2");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("--init-from " + source_path + " is not used: the run resumed from " +
                              dir + "/tuned/checkpoint-step00000004.h5"),
            std::string::npos)
      << again.output;
}

TEST(InitFromTest, AnotherArchitectureAMissingFileOrAnUnknownPrefixIsOneLine) {
  const std::string dir = fresh_directory("init-from-errors");
  ASSERT_EQ(run_convoy(kTinyRun + "--max-steps 1 --run-dir " + dir + "/source").exit_code, 0);
  const std::string source = dir + "/source/latest";
  struct Case {
    std::string options, message;
  };
  for (const auto& [options, message] : std::vector<Case>{
           {"--init-from " + source + " --architecture resnet32",
            "convoy: --init-from " + source +
                " has no tensor layer1.3.conv1.weight that this model needs; is it another "
                "architecture? (--init-skip PREFIX keeps this model's fresh tensors under "
                "PREFIX)\n"},
           {"--init-from " + dir + "/missing.h5",
            "convoy: --init-from: checkpoint '" + dir + "/missing.h5' does not exist\n"},
           {"--init-from " + dir + "/source",
            "convoy: --init-from " + dir + "/source is a directory; it takes a checkpoint file (" +
                dir + "/source/latest for a run's newest)\n"},
           {"--init-from " + source + " --init-skip fc,lyer3",
            "convoy: --init-skip lyer3 names no tensor of this resnet20 (prefixes of names such "
            "as conv1.weight or fc.bias)\n"}}) {
    auto result = run_convoy(kTinyRun + "--run-dir " + dir + "/tuned " + options);
    EXPECT_EQ(result.exit_code, 1) << options << "\n" << result.output;
    EXPECT_EQ(result.output, message) << options;
    EXPECT_FALSE(std::filesystem::exists(dir + "/tuned/latest")) << options;
  }
}

}  // namespace
}  // namespace convoy::testing
