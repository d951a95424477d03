// `convoy train` saving and resuming checkpoints that cannot be written or should not be
// continued: a full disk, a checkpoint past the run's end, another optimizer's state, an edited
// step, a directory. Each ends with one line naming the file and leaves earlier checkpoints as
// they were. And a preemption checkpoint that was saved before its epoch's evaluation.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_reader.hpp"
#include "support/checkpoint_surgery.hpp"
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

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// Top-1 accuracy of every evaluation in a run's metrics.jsonl, by step.
std::map<int64_t, double> evaluations(const std::string& dir) {
  std::map<int64_t, double> accuracy;
  std::ifstream file(dir + "/metrics.jsonl");
  for (std::string line; std::getline(file, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "eval") accuracy[record["step"]] = record["accuracy"];
  }
  return accuracy;
}

// A signal in an epoch's last step checkpoints before that epoch's evaluation (the job has
// seconds left); the resumed run evaluates first. It used to skip the evaluation, and after
// the run's last step ended with exit 0, no final evaluation and the previous epoch's metrics
// in its final checkpoint.
TEST(CheckpointResumeTest, APreemptionInAnEpochsLastStepIsEvaluatedOnResume) {
  const std::string straight = fresh_directory("preempted-straight"),
                    dir = fresh_directory("preempted-at-epoch-end");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + straight + " --epochs 3").exit_code, 0);
  // Stopped in step 4 (epoch 2's last), then, resumed, in step 6 (the run's last).
  for (const char* step : {"4", "6"}) {
    auto stopped = run_convoy(kTinyRun + "--run-dir " + dir +
                              " --epochs 3 --inject-failure signal --inject-failure-step " + step);
    ASSERT_EQ(stopped.exit_code, 75) << stopped.output;
    EXPECT_EQ(stopped.output.find(std::string("eval at step ") + step), std::string::npos)
        << stopped.output;
  }
  auto resumed = run_convoy(kTinyRun + "--run-dir " + dir + " --epochs 3");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("eval at step 6"), std::string::npos) << resumed.output;
  EXPECT_EQ(resumed.output.find("nothing left to train"), std::string::npos) << resumed.output;
  EXPECT_EQ(evaluations(dir), evaluations(straight));
  ASSERT_EQ(evaluations(dir).size(), 3u);
  EXPECT_EQ(model_hash(dir + "/latest"), model_hash(straight + "/latest"));
  const auto final_metrics =
      nlohmann::json::parse(CheckpointReader::read(dir + "/latest").metrics_json);
  EXPECT_EQ(final_metrics["step"], 6);
  EXPECT_EQ(final_metrics["accuracy"], evaluations(straight).at(6));
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

// A run folder that became read-only (a file system remounted so, a folder of another user) was
// refused with "cannot open metrics file ... for appending" and no reason. A read-only bind
// mount in a mount namespace of the command's own stands in for it: as root, permissions would
// not stop a write.
TEST(CheckpointResumeTest, AReadOnlyRunDirectoryIsOneLineWithTheReasonAndKeepsItsCheckpoints) {
  if (std::system("unshare -m true >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "unshare -m is not allowed here (it needs CAP_SYS_ADMIN)";
  }
  const std::string dir = fresh_directory("resume-read-only");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  const auto files = files_in(dir);
  const std::string metrics = read_text(dir + "/metrics.jsonl");
  auto read_only = [&](const std::string& run_dir) {
    return run_command("unshare -m sh -c 'mount --bind " + dir + " " + dir +
                       " && mount -o remount,bind,ro " + dir + " && OMP_NUM_THREADS=1 exec " +
                       CONVOY_BINARY + " " + kTinyRun + "--run-dir " + run_dir +
                       " --max-steps 4'");
  };
  auto resumed = read_only(dir);
  EXPECT_EQ(resumed.exit_code, 1) << resumed.output;
  EXPECT_EQ(resumed.standard_error, "convoy: cannot open metrics file " + dir +
                                        "/metrics.jsonl for appending: Read-only file system\n");
  auto fresh = read_only(dir + "/new");
  EXPECT_EQ(fresh.exit_code, 1) << fresh.output;
  EXPECT_EQ(fresh.standard_error, "convoy: cannot create the run directory " + dir +
                                      "/new (--run-dir): Read-only file system\n");
  EXPECT_EQ(files_in(dir), files);
  EXPECT_EQ(read_text(dir + "/metrics.jsonl"), metrics);
  EXPECT_EQ(CheckpointReader::read(dir + "/checkpoint-step00000002.h5").step, 2);
}

// A finished run started again trains, evaluates and saves nothing; a checkpoint past this
// run's end (from a run with more epochs) does the same, and both say so.
TEST(CheckpointResumeTest, ACheckpointAtOrPastTheRunsEndTrainsNothingAndSaysSo) {
  const std::string dir = fresh_directory("resume-past-end");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --epochs 2").exit_code, 0);
  const std::string checkpoint = dir + "/checkpoint-step00000004.h5";
  const auto files = files_in(dir);
  const std::string metrics = read_text(dir + "/metrics.jsonl");
  struct Case {
    std::string options, note;
  };
  for (const auto& [options, note] : std::vector<Case>{
           {"--epochs 1",
            "is at step 4, past this run's end (2 steps: --epochs 1 x 2 steps "
            "per epoch); nothing left to train"},
           {"--epochs 3 --max-steps 3",
            "is at step 4, past this run's end (3 steps: --max-steps 3); nothing left to train"},
           {"--epochs 2",
            "is at step 4, at this run's end (4 steps: --epochs 2 x 2 steps per "
            "epoch); nothing left to train"}}) {
    auto result =
        run_convoy(kTinyRun + "--run-dir " + dir + " " + options + " --resume " + checkpoint);
    EXPECT_EQ(result.exit_code, 0) << options << "\n" << result.output;
    EXPECT_NE(result.output.find("checkpoint " + checkpoint + " " + note), std::string::npos)
        << options << "\n"
        << result.output;
    EXPECT_EQ(result.output.find("eval at step"), std::string::npos) << result.output;
    EXPECT_EQ(files_in(dir), files) << options;
    EXPECT_EQ(read_text(dir + "/metrics.jsonl"), metrics) << options;
  }
}

TEST(CheckpointResumeTest, ResumeErrorsNameTheCheckpointFile) {
  const std::string dir = fresh_directory("resume-errors");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  const std::string checkpoint = dir + "/checkpoint-step00000002.h5";
  auto resume = [&](const std::string& options) {
    auto result = run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 4 " + options);
    EXPECT_EQ(result.exit_code, 1) << options << "\n" << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    return result.output;
  };
  EXPECT_NE(resume("--optimizer adamw --resume " + checkpoint)
                .find("checkpoint " + checkpoint +
                      " holds sgd optimizer state; this run uses --optimizer adamw"),
            std::string::npos);
  EXPECT_NE(resume("--resume " + dir)
                .find("--resume " + dir +
                      " is a directory; --resume takes a checkpoint file "
                      "(or auto, with --run-dir " +
                      dir),
            std::string::npos);

  const std::string edited = dir + "/edited.h5";
  fs::copy_file(checkpoint, edited);
  replace_attribute(edited, "/", "step", int64_t{1'000'000'000'000'000});
  EXPECT_NE(resume("--resume " + edited)
                .find("checkpoint '" + edited +
                      "': root attribute step is 1000000000000000 but /schedule attribute step "
                      "is 2"),
            std::string::npos);
  replace_attribute(edited, "/", "step", int64_t{-3});
  EXPECT_NE(resume("--resume " + edited)
                .find("checkpoint '" + edited + "': root attribute step is -3; expected a count"),
            std::string::npos);
  fs::remove(edited);
  fs::copy_file(checkpoint, edited);
  remove_dataset(edited, "/optimizer/conv1.weight.momentum_buffer");
  EXPECT_NE(resume("--resume " + edited)
                .find("checkpoint " + edited +
                      ": sgd optimizer state: entry 'conv1.weight.momentum_buffer' is missing"),
            std::string::npos);
  EXPECT_EQ(CheckpointReader::read(checkpoint).step, 2) << "the original is untouched";
}

// The global step means a place in an epoch only at the epoch length it was counted with:
// another length is refused naming the option behind it; other changed options are resumed
// with, and listed.
TEST(CheckpointResumeTest, AnotherEpochLengthIsRefusedAndOtherChangedOptionsAreListed) {
  const std::string dir = fresh_directory("resume-epoch-length");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --epochs 2").exit_code, 0);
  const std::string checkpoint = dir + "/checkpoint-step00000004.h5";
  const auto files = files_in(dir);
  // Step 4 is the start of an epoch at either length, so the sampler's position alone agrees.
  const std::string tiny_run_of_128 =
      std::regex_replace(kTinyRun, std::regex("--train-samples 64"), "--train-samples 128");
  auto refused =
      run_convoy(tiny_run_of_128 + "--run-dir " + dir + " --epochs 4 --resume " + checkpoint);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_EQ(refused.output, "convoy: checkpoint " + checkpoint +
                                " was saved by a run of 2 steps per epoch; this run has 4 "
                                "(--train-samples 128 where the checkpoint's run had 64): an "
                                "exact resume needs the same epoch length\n");
  EXPECT_EQ(files_in(dir), files);

  auto resumed =
      run_convoy(kTinyRun + "--run-dir " + dir + " --epochs 3 --lr 0.05 --resume " + checkpoint);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed with options that differ from the checkpoint's: "
                                "epochs = 3 (was 2), lr = 0.05 (was 0.1)\n"),
            std::string::npos)
      << resumed.output;
  auto unchanged =
      run_convoy(kTinyRun + "--run-dir " + dir + " --epochs 3 --lr 0.05 --resume auto");
  EXPECT_EQ(unchanged.exit_code, 0) << unchanged.output;
  EXPECT_EQ(unchanged.output.find("differ from the checkpoint"), std::string::npos)
      << unchanged.output;
}

// SGD keeps momentum buffers only with a momentum: switching it on or off at a resume is refused
// naming the option (the optimizer alone could only name a missing or extra buffer).
TEST(CheckpointResumeTest, SwitchingMomentumOnOrOffIsRefusedNamingTheOption) {
  const std::string dir = fresh_directory("resume-momentum");
  const std::string run = kTinyRun + "--nesterov false --run-dir " + dir;
  ASSERT_EQ(run_convoy(run + " --max-steps 2 --momentum 0").exit_code, 0);
  const std::string step_2 = dir + "/checkpoint-step00000002.h5";
  auto on = run_convoy(run + " --max-steps 4 --resume " + step_2);
  EXPECT_EQ(on.exit_code, 1) << on.output;
  EXPECT_EQ(on.output, "convoy: checkpoint " + step_2 +
                           " was trained with --momentum 0 and holds no momentum buffers, which "
                           "this run's --momentum 0.9 needs: resume with --momentum 0\n");
  ASSERT_EQ(run_convoy(run + " --max-steps 4 --momentum 0 --resume " + step_2).exit_code, 0);
  EXPECT_EQ(run_convoy(run + " --max-steps 6 --momentum 0.5 --resume auto").exit_code, 1);
  fs::remove_all(dir);
  ASSERT_EQ(run_convoy(run + " --max-steps 2").exit_code, 0);
  auto off = run_convoy(run + " --max-steps 4 --momentum 0 --resume auto");
  EXPECT_EQ(off.exit_code, 1) << off.output;
  EXPECT_EQ(off.output, "convoy: checkpoint " + step_2 +
                            " was trained with --momentum 0.9 and holds momentum buffers, which "
                            "this run's --momentum 0 cannot use: resume with --momentum 0.9\n");
}

// A run killed while writing metrics.jsonl leaves a last line without its newline: the next
// run cuts it instead of gluing its first record onto it, so every line stays one JSON record.
TEST(CheckpointResumeTest, ATornLastMetricsLineIsCutNotAppendedTo) {
  const std::string dir = fresh_directory("resume-torn-metrics");
  ASSERT_EQ(run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  const std::string torn = "{\"kind\": \"train\", \"st";
  {
    std::ofstream metrics(dir + "/metrics.jsonl", std::ios::app);
    metrics << torn;
  }
  auto resumed = run_convoy(kTinyRun + "--run-dir " + dir + " --max-steps 4");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("metrics: dropped the torn last line of " + dir +
                                "/metrics.jsonl (" + std::to_string(torn.size()) + " bytes"),
            std::string::npos)
      << resumed.output;
  std::istringstream lines(read_text(dir + "/metrics.jsonl"));
  int records = 0;
  for (std::string line; std::getline(lines, line); ++records) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
  EXPECT_GT(records, 2);
}

}  // namespace
}  // namespace convoy::testing
