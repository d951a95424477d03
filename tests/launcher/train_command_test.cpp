// End-to-end tests of `convoy train`, `eval`, `inspect` and the failure paths, through the
// real executable (and mpirun), on a small fixed subset of Fashion-MNIST.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>

#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_reader.hpp"
#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "framework/kernels/context.hpp"
#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

// ResNet-20 on 512 training images, batch 32: 16 steps per epoch, seconds per run.
const std::string kSmallRunWithoutEpochs =
    "train --recipe fashion-resnet20 --train-samples 512 --test-samples 200 --batch-size 32 "
    "--threads 1 --workers 1 --progress lines --log-every 1 ";
const std::string kSmallRun = kSmallRunWithoutEpochs + "--epochs 2 ";

std::vector<nlohmann::json> metrics(const std::string& run_dir, const std::string& kind) {
  std::vector<nlohmann::json> records;
  std::ifstream file(run_dir + "/metrics.jsonl");
  for (std::string line; std::getline(file, line);) {
    auto record = nlohmann::json::parse(line);
    if (record["kind"] == kind) records.push_back(record);
  }
  return records;
}

TEST(TrainCommandTest, LossFallsAndTwoRunsWithTheSameSeedAreBitIdentical) {
  const std::string a = fresh_directory("same-seed-a"), b = fresh_directory("same-seed-b");
  auto first = run_convoy(kSmallRun + "--run-dir " + a);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto second = run_convoy(kSmallRun + "--run-dir " + b);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const auto steps = metrics(a, "train");
  ASSERT_EQ(steps.size(), 32u);
  // Mean of the first and last four logged losses: ln(10) = 2.30 at the start.
  double start = 0, end = 0;
  for (int i = 0; i < 4; ++i) {
    start += steps[i]["loss"].get<double>() / 4;
    end += steps[steps.size() - 1 - i]["loss"].get<double>() / 4;
  }
  EXPECT_LT(end, start / 1.6) << "loss should fall by at least 1.6x in 32 steps";
  EXPECT_EQ(model_hash(a + "/latest"), model_hash(b + "/latest"));
  EXPECT_EQ(metrics(a, "eval").back()["accuracy"], metrics(b, "eval").back()["accuracy"]);
}

TEST(TrainCommandTest, ResumingAfterAStopGivesTheSameParametersAsAStraightRun) {
  const std::string straight = fresh_directory("straight"), resumed = fresh_directory("resumed");
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + straight + " --max-steps 24").exit_code, 0);
  auto part1 = run_convoy(kSmallRun + "--run-dir " + resumed + " --max-steps 11");
  ASSERT_EQ(part1.exit_code, 0) << part1.output;
  auto part2 = run_convoy(kSmallRun + "--run-dir " + resumed + " --max-steps 24 --resume auto");
  ASSERT_EQ(part2.exit_code, 0) << part2.output;
  EXPECT_NE(part2.output.find("resumed from"), std::string::npos) << part2.output;
  EXPECT_EQ(model_hash(straight + "/latest"), model_hash(resumed + "/latest"));
  // Each run marks where it started, so readers of metrics.jsonl can drop the records of steps
  // a resumed run redid.
  std::vector<nlohmann::json> starts;
  std::ifstream metrics(resumed + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    auto record = nlohmann::json::parse(line);
    if (record["kind"] == "start") starts.push_back(record);
  }
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0]["step"], 0);
  EXPECT_TRUE(starts[0]["resumed_from"].is_null());
  EXPECT_EQ(starts[1]["step"], 11);
  EXPECT_EQ(starts[1]["resumed_from"], resumed + "/checkpoint-step00000011.h5") << starts[1];
}

TEST(TrainCommandTest, TwoRanksResumeExactlyAndStayBitIdentical) {
  const std::string straight = fresh_directory("mpi-straight"),
                    resumed = fresh_directory("mpi-resumed");
  auto full = run_convoy_mpi(2, kSmallRun + "--run-dir " + straight + " --max-steps 20");
  ASSERT_EQ(full.exit_code, 0) << full.output;
  ASSERT_EQ(run_convoy_mpi(2, kSmallRun + "--run-dir " + resumed + " --max-steps 10").exit_code, 0);
  auto rest = run_convoy_mpi(2, kSmallRun + "--run-dir " + resumed + " --max-steps 20");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_EQ(model_hash(straight + "/latest"), model_hash(resumed + "/latest"));
}

// Parameters and optimizer state of a checkpoint, without BatchNorm's running statistics.
std::vector<NamedArray> learned_state(const std::string& path) {
  Checkpoint checkpoint = CheckpointReader::read(path);
  std::vector<NamedArray> learned;
  for (auto& array : checkpoint.model) {
    if (array.name.find("running_") == std::string::npos &&
        array.name.find("num_batches_tracked") == std::string::npos) {
      learned.push_back(std::move(array));
    }
  }
  for (auto& array : checkpoint.optimizer) learned.push_back(std::move(array));
  return learned;
}

void expect_same_bits(const std::vector<NamedArray>& a, const std::vector<NamedArray>& b,
                      const std::string& context) {
  ASSERT_EQ(a.size(), b.size()) << context;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].name, b[i].name) << context;
    ASSERT_EQ(a[i].values.size(), b[i].values.size()) << a[i].name << ", " << context;
    EXPECT_EQ(std::memcmp(a[i].values.data(), b[i].values.data(),
                          a[i].values.size() * sizeof(float)),
              0)
        << a[i].name << " differs, " << context;
  }
}

// Micro-batch m of rank r is slice r * N + m of the global batch, and the last backward adds the
// earlier sum to its own gradient, so 1 rank x 2 micro-batches of 16 computes g1 + g0 where
// 2 ranks x 16 allreduce g0 + g1: the same bits, step after step. BatchNorm's running statistics
// do differ (two sequential updates against an average of two), as with PyTorch's accumulation;
// training never reads them.
TEST(TrainCommandTest, OneRankWithTwoMicroBatchesTrainsBitIdenticallyToTwoRanks) {
  const std::string accumulated = fresh_directory("accumulated"),
                    two_ranks = fresh_directory("accumulation-two-ranks");
  auto one = run_convoy(kSmallRun + "--run-dir " + accumulated +
                        " --max-steps 6 --accumulation-steps 2");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_NE(one.output.find("global batch 32 (2 micro-batches of 16 per rank and step)"),
            std::string::npos)
      << one.output;
  auto two = run_convoy_mpi(2, kSmallRun + "--run-dir " + two_ranks + " --max-steps 6");
  ASSERT_EQ(two.exit_code, 0) << two.output;

  const auto a = learned_state(accumulated + "/latest"), b = learned_state(two_ranks + "/latest");
  ASSERT_GT(a.size(), 100u) << "resnet20's 65 parameters and their momentum buffers";
  expect_same_bits(a, b, "1 rank x 2 micro-batches against 2 ranks");
  const auto steps_a = metrics(accumulated, "train"), steps_b = metrics(two_ranks, "train");
  ASSERT_EQ(steps_a.size(), 6u);
  ASSERT_EQ(steps_b.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(steps_a[i]["loss"], steps_b[i]["loss"]) << "step " << i;

  // The global batch and sample order do not depend on the split, so a run checkpointed with
  // micro-batches resumes on 2 ranks without them and ends where the 2-rank run did.
  const std::string switched = fresh_directory("accumulation-switched");
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + switched +
                       " --max-steps 3 --accumulation-steps 2")
                .exit_code,
            0);
  auto rest = run_convoy_mpi(2, kSmallRun + "--run-dir " + switched + " --max-steps 6");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(rest.output.find("at step 3"), std::string::npos) << rest.output;
  expect_same_bits(learned_state(switched + "/latest"), b,
                   "resumed on 2 ranks from a checkpoint with micro-batches");
}

TEST(TrainCommandTest, AGlobalBatchThatMicroBatchesCannotSplitIsRefusedByName) {
  auto result = run_convoy(kSmallRun + "--run-dir " + fresh_directory("accumulation-bad") +
                           " --accumulation-steps 3");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("--batch-size 32 is the global batch and must be divisible by the "
                               "1 ranks x 3 micro-batches (--accumulation-steps)"),
            std::string::npos)
      << result.output;
  auto zero = run_convoy(kSmallRun + "--run-dir " + fresh_directory("accumulation-zero") +
                         " --accumulation-steps 0");
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.output.find("--accumulation-steps must be at least 1, got 0"), std::string::npos)
      << zero.output;
}

// The model is built for one input size and the trainer slices each batch into inputs of that
// size: a test or training pipeline giving another size must stop the run before it starts,
// naming the options that decide each side (it used to crash, or train on misaligned slices).
TEST(TrainCommandTest, TestAndTrainingImagesOfDifferentSizesAreRefusedNamingTheOptions) {
  const std::string run =
      kSmallRun + "--max-steps 2 --resume none --run-dir " + fresh_directory("input-sizes") + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--center-crop 100",
       "test images are 100x100 after --center-crop 100 but training images are 28x28 after "
       "--crop-padding 2;"},
      {"--center-crop 29", "test images are 29x29 after --center-crop 29 but training images "},
      {"--resize 5", "test images are 5x5 after --resize 5 but training images are 28x28"},
      {"--random-resized-crop 100",
       "test images are 28x28 as stored but training images are 100x100 after "
       "--random-resized-crop 100 --crop-padding 2;"}};
  for (const auto& [option, message] : cases) {
    auto result = run_convoy(run + option);
    EXPECT_EQ(result.exit_code, 1) << option << "\n" << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << option << "\n" << result.output;
    EXPECT_NE(result.output.find("both must be the model's input size (--resize/--center-crop/"
                                 "--pad-to decide the test size, --random-resized-crop/"
                                 "--crop-padding/--pad-to the training size)"),
              std::string::npos)
        << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  }
}

// The recipe's --crop-padding 2 crops what --random-resized-crop 32 gives, not the stored 28x28,
// so the training images match --center-crop 32 and the run trains.
TEST(TrainCommandTest, TheRandomCropKeepsTheSizeOfARandomResizedCrop) {
  auto result = run_convoy(kSmallRun + "--max-steps 2 --resume none --random-resized-crop 32 " +
                           "--center-crop 32 --run-dir " + fresh_directory("crop-after-resize"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("random_crop 32 pad 2"), std::string::npos) << result.output;
}

// root/train/<class>/0.png and root/val/<class>/0.png, one 8x6 RGB image per class.
void write_image_folder(const std::string& root, const std::vector<std::string>& train_classes,
                        const std::vector<std::string>& val_classes) {
  for (const auto& [split, classes] : {std::pair{"train", train_classes}, {"val", val_classes}}) {
    for (const std::string& label : classes) {
      const std::string folder = root + "/" + split + "/" + label;
      fs::create_directories(folder);
      const data::Image image{std::vector<uint8_t>(3 * 8 * 6, 90), 3, 8, 6, 0};
      data::write_file_bytes(folder + "/0.png", data::encode_png(image));
    }
  }
}

// An image folder's sizes vary, so without --random-resized-crop or --pad-to there is no size for
// --crop-padding's random crop to keep (the crop used to be left out without a word).
TEST(TrainCommandTest, CropPaddingOnImagesOfVaryingSizeAsksForAFixedSize) {
  const std::string root = fresh_directory("crop-padding-folder");
  write_image_folder(root, {"a", "b"}, {"a", "b"});
  auto result = run_convoy("train --dataset image-folder --data-dir " + root +
                           " --resize 8 --center-crop 8 --crop-padding 2 --batch-size 2 "
                           "--max-steps 1 --threads 1 --resume none --run-dir " + root + "/run");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output,
            "convoy: --crop-padding 2 needs one image size, but the training images' sizes vary; "
            "add --random-resized-crop or --pad-to\n");
}

// Labels index the class names: a val/ folder holding another class set than train/ (here 'c'
// where training has 'b') trained and scored label 1 against another class without a word, since
// only the class counts were compared.
TEST(TrainCommandTest, SplitsWhoseClassNamesDifferAreRefusedNamingTheClass) {
  const std::string root = fresh_directory("class-names-differ");
  write_image_folder(root, {"a", "b"}, {"a", "c"});
  auto result = run_convoy("train --dataset image-folder --data-dir " + root +
                           " --batch-size 2 --max-steps 1 --threads 1 --resume none --run-dir " +
                           root + "/run");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const std::string expected = "convoy: the train split has 2 classes, the test split 2, and "
                               "class 1 is 'b' in image folder " + root + "/train but 'c' in "
                               "image folder " + root + "/val; a label must mean the same class "
                               "in both splits\n";
  EXPECT_EQ(result.output, expected);
}

const std::string kWithModelEma = " --model-ema true --model-ema-steps 2";

// The recipe warms up for one epoch (16 steps here), during which the average keeps copying the
// weights; the stop at step 20 falls where it is averaging, so the resume must restore both the
// average and its update count.
TEST(TrainCommandTest, TheModelEmaIsEvaluatedCheckpointedAndResumedExactly) {
  const std::string straight = fresh_directory("ema-straight"),
                    resumed = fresh_directory("ema-resumed");
  auto full = run_convoy(kSmallRun + "--run-dir " + straight + " --max-steps 24" + kWithModelEma);
  ASSERT_EQ(full.exit_code, 0) << full.output;
  EXPECT_NE(full.output.find("model EMA: decay"), std::string::npos) << full.output;
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + resumed + " --max-steps 20" + kWithModelEma)
                .exit_code,
            0);
  auto rest = run_convoy(kSmallRun + "--run-dir " + resumed + " --max-steps 24" + kWithModelEma);
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_EQ(model_hash(straight + "/latest"), model_hash(resumed + "/latest"));
  const Checkpoint a = CheckpointReader::read(straight + "/latest"),
                   b = CheckpointReader::read(resumed + "/latest");
  EXPECT_EQ(a.model_ema_updates, b.model_ema_updates);
  EXPECT_EQ(a.model_ema_updates, 4) << "steps 17, 19, 21, 23: batches 0, 2, 4, 6 of epoch 2";
  expect_same_bits(a.model_ema, b.model_ema, "the average after a resume");
  ASSERT_EQ(a.model_ema.size(), a.model.size());
  bool averaged = false;
  for (size_t i = 0; i < a.model.size(); ++i) averaged |= a.model[i].values != a.model_ema[i].values;
  EXPECT_TRUE(averaged) << "the average equals the weights";

  // convoy eval --weights ema reads the average back and scores it as training did.
  const auto last = metrics(straight, "eval").back();
  ASSERT_TRUE(last.contains("ema_accuracy")) << last.dump();
  auto evaluation = run_convoy("eval --checkpoint " + straight +
                               "/latest --weights ema --test-samples 200 --threads 1 --json");
  ASSERT_EQ(evaluation.exit_code, 0) << evaluation.output;
  const auto report = nlohmann::json::parse(evaluation.standard_output);
  EXPECT_EQ(report["weights"], "ema");
  EXPECT_EQ(report["top1"], last["ema_accuracy"]);
  // The losses tell the two apart (the accuracies of so short a run can coincide).
  const double loss = report["loss"], ema_loss = last["ema_loss"], weights_loss = last["loss"];
  EXPECT_NEAR(loss, ema_loss, 1e-4 * ema_loss);
  EXPECT_GT(std::abs(loss - weights_loss), 1e-2 * weights_loss)
      << "scored the weights, not the average?";
}

// With decay 0 and an update after every step, the average is the weights themselves: the
// update runs after the optimizer step and covers the BatchNorm buffers.
TEST(TrainCommandTest, AModelEmaWithDecayZeroIsTheModelItself) {
  const std::string dir = fresh_directory("ema-decay-zero");
  auto run = run_convoy(kSmallRun + "--run-dir " + dir +
                        " --max-steps 20 --model-ema true --model-ema-steps 1 --model-ema-decay 0");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Checkpoint checkpoint = CheckpointReader::read(dir + "/latest");
  expect_same_bits(checkpoint.model_ema, checkpoint.model, "decay 0");
  const auto last = metrics(dir, "eval").back();
  EXPECT_EQ(last["ema_accuracy"], last["accuracy"]);
  EXPECT_EQ(last["ema_loss"], last["loss"]);
}

TEST(TrainCommandTest, ModelEmaOptionsAndWeightsAreCheckedByName) {
  const std::string dir = fresh_directory("ema-refused");
  auto steps = run_convoy(kSmallRun + "--run-dir " + dir + " --model-ema true --model-ema-steps 0");
  EXPECT_NE(steps.exit_code, 0);
  EXPECT_NE(steps.output.find("--model-ema-steps must be at least 1, got 0"), std::string::npos)
      << steps.output;
  auto decay = run_convoy(kSmallRun + "--run-dir " + dir + " --model-ema true --model-ema-decay 1");
  EXPECT_NE(decay.output.find("--model-ema-decay must be in [0, 1), got 1"), std::string::npos)
      << decay.output;
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  auto missing = run_convoy("eval --checkpoint " + dir + "/latest --weights ema --threads 1");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("holds no model EMA (/model_ema): it was trained without "
                                "--model-ema"),
            std::string::npos)
      << missing.output;
  auto wrong = run_convoy("eval --checkpoint " + dir + "/latest --weights best --threads 1");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("--weights must be model or ema, got 'best'"), std::string::npos)
      << wrong.output;
}

// Spans named `name` per rank in a --trace file.
std::map<int, int> spans_named(const nlohmann::json& trace, const std::string& name) {
  std::map<int, int> counts;
  for (const auto& event : trace["traceEvents"]) {
    if (event["ph"] == "X" && event["name"] == name) ++counts[event["pid"].get<int>()];
  }
  return counts;
}

TEST(TrainCommandTest, TraceRecordsTheStepsAfterTheFirstTenOnEveryRank) {
  const std::string dir = fresh_directory("train-trace");
  auto run = run_convoy_mpi(2, kSmallRun + "--run-dir " + dir + " --max-steps 20 --trace " + dir +
                                   "/trace.json --trace-steps 4");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("trace of steps 11-14: " + dir + "/trace.json"), std::string::npos)
      << run.output;
  std::ifstream file(dir + "/trace.json");
  const nlohmann::json trace = nlohmann::json::parse(file);
  for (const std::string name : {"step", "data wait", "optimizer", "allreduce wait"}) {
    EXPECT_EQ(spans_named(trace, name), (std::map<int, int>{{0, 4}, {1, 4}})) << name;
  }
  EXPECT_EQ(spans_named(trace, "conv1 forward"), (std::map<int, int>{{0, 4}, {1, 4}}));

  // A run that ends inside the window writes the steps it recorded.
  const std::string short_dir = fresh_directory("train-trace-short");
  auto short_run = run_convoy(kSmallRun + "--run-dir " + short_dir + " --max-steps 12 --trace " +
                              short_dir + "/trace.json");
  ASSERT_EQ(short_run.exit_code, 0) << short_run.output;
  EXPECT_NE(short_run.output.find("trace of steps 11-12"), std::string::npos) << short_run.output;
  std::ifstream short_file(short_dir + "/trace.json");
  EXPECT_EQ(spans_named(nlohmann::json::parse(short_file), "step"), (std::map<int, int>{{0, 2}}));

  auto bad = run_convoy(kSmallRun + "--run-dir " + short_dir + " --trace t.json --trace-steps 0");
  EXPECT_NE(bad.output.find("--trace-steps must be at least 1, got 0"), std::string::npos)
      << bad.output;
}

TEST(TrainCommandTest, ACheckpointFromFourRanksResumesOnTwoAndOne) {
  const std::string four = fresh_directory("elastic-4");
  ASSERT_EQ(run_convoy_mpi(4, kSmallRun + "--run-dir " + four + " --max-steps 8").exit_code, 0);
  for (int ranks : {2, 1}) {
    const std::string dir = fresh_directory("elastic-" + std::to_string(ranks));
    fs::copy(four + "/checkpoint-step00000008.h5", dir + "/checkpoint-step00000008.h5");
    auto result = run_convoy_mpi(ranks, kSmallRun + "--run-dir " + dir + " --max-steps 12");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("resumed from " + dir + "/checkpoint-step00000008.h5 at step 8"),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("saved by 4 rank(s)"), std::string::npos) << result.output;
    EXPECT_TRUE(fs::exists(dir + "/checkpoint-step00000012.h5"));
  }
}

TEST(TrainCommandTest, ResumingAnotherArchitectureNamesTheFirstMismatchingTensor) {
  const std::string dir = fresh_directory("incompatible");
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  auto result =
      run_convoy(kSmallRun + "--run-dir " + dir + " --architecture resnet32 --max-steps 4");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("that this model needs; is it another architecture?"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("layer1.3."), std::string::npos) << result.output;
}

TEST(TrainCommandTest, AutoResumeSkipsACorruptNewestCheckpointAndSaysSo) {
  const std::string dir = fresh_directory("corrupt");
  ASSERT_EQ(
      run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 4 --checkpoint-every 2").exit_code,
      0);
  const std::string newest = dir + "/checkpoint-step00000004.h5";
  ASSERT_TRUE(fs::exists(newest));
  fs::resize_file(newest, fs::file_size(newest) / 2);  // a crash mid-copy, a full disk
  auto result = run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 6");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("skipping invalid checkpoint " + newest), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("checkpoint-step00000002.h5 at step 2"), std::string::npos)
      << result.output;
  auto explicit_path = run_convoy(kSmallRun + "--run-dir " + dir + " --resume " + newest);
  EXPECT_EQ(explicit_path.exit_code, 1);
  EXPECT_NE(explicit_path.output.find(newest), std::string::npos) << explicit_path.output;
}

TEST(TrainCommandTest, StopsAfterTheFirstEvaluationReachingTheTargetAccuracy) {
  // After one epoch of 16 steps the model is far above 5 % (chance is 10 %), so the run stops
  // there; a target of 100 % is never reached and the run goes on to its last epoch.
  const std::string reached = fresh_directory("target-reached");
  auto stopped = run_convoy(kSmallRunWithoutEpochs + "--epochs 3 --target-accuracy 0.05 " +
                            "--run-dir " + reached);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_NE(stopped.output.find("reached the target accuracy"), std::string::npos)
      << stopped.output;
  const auto evaluations = metrics(reached, "eval");
  ASSERT_EQ(evaluations.size(), 1u);
  EXPECT_EQ(evaluations[0]["step"], 16);
  EXPECT_GE(evaluations[0]["accuracy"].get<double>(), 0.05);
  EXPECT_GT(evaluations[0]["seconds"].get<double>(), 0.0);
  EXPECT_EQ(metrics(reached, "train").size(), 16u);

  const std::string unreached = fresh_directory("target-unreached");
  auto full = run_convoy(kSmallRunWithoutEpochs + "--epochs 2 --target-accuracy 1 " + "--run-dir " +
                         unreached);
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const auto all = metrics(unreached, "eval");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0]["seconds"].get<double>(), all[1]["seconds"].get<double>());

  auto percent = run_convoy(kSmallRun + "--target-accuracy 92.5 --run-dir " +
                            fresh_directory("target-percent"));
  EXPECT_NE(percent.exit_code, 0);
  EXPECT_NE(percent.output.find("--target-accuracy must be a fraction in [0, 1]"),
            std::string::npos)
      << percent.output;
}

TEST(TrainCommandTest, BadOptionsAreOneLineAndExitCodeTwo) {
  for (const char* arguments : {"train --recipe fashion-resnet20 --epochs many",
                                "train --no-such-option 1", "train --recipe no-such-recipe"}) {
    auto result = run_convoy(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_EQ(result.output.rfind("convoy: ", 0), 0u) << result.output;
  }
}

// The largest center crop the options allow (8192 x 8192, 268 MB for the first test image)
// under a 300 MB address-space limit; std::bad_alloc's own what() ("std::bad_alloc") says
// neither what ran out nor where. PMIx keeps its singleton data in memory (gds hash).
TEST(TrainCommandTest, RunningOutOfMemoryIsOneLineNamingTheCommand) {
  auto result = run_command("ulimit -v 300000; PMIX_MCA_gds=hash OMP_NUM_THREADS=1 exec " +
                            std::string(CONVOY_BINARY) + " " + kSmallRun +
                            "--max-steps 2 --resume none --center-crop 8192 --run-dir " +
                            fresh_directory("out-of-memory"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output, "convoy: out of memory (std::bad_alloc) while running train\n");
}

// --help shows each default as a user would type it back: the shortest decimal that reads as
// the same double, and true/false for switches taking a value.
TEST(TrainCommandTest, HelpShowsDefaultsAsWritten) {
  auto help = run_convoy("train --help");
  ASSERT_EQ(help.exit_code, 0) << help.output;
  for (const char* shown : {"--lr arg (=0.1)", "--momentum arg (=0.9)", "--nesterov arg (=false)",
                            "--drop-last arg (=true)", "--adam-epsilon arg (=1e-08)",
                            "--model-ema-decay arg (=0.99998)", "--epochs arg (=1)"}) {
    EXPECT_NE(help.standard_output.find(shown), std::string::npos) << shown << "\n" << help.output;
  }
  EXPECT_EQ(help.standard_output.find("0000000"), std::string::npos) << help.output;
}

TEST(TrainCommandTest, ARankThatThrowsEndsTheJobWithinSecondsNamingTheRank) {
  const std::string dir = fresh_directory("rank-throws");
  auto result = run_convoy_mpi(
      2, kSmallRun + "--run-dir " + dir + " --inject-failure-step 3 --inject-failure-rank 1");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.seconds, 60);
  EXPECT_NE(result.output.find("convoy: rank 1: injected failure at step 3"), std::string::npos)
      << result.output;
}

TEST(TrainCommandTest, AHungRankIsDetectedAndTheJobAborted) {
  const std::string dir = fresh_directory("rank-hangs");
  auto result =
      run_convoy_mpi(2, kSmallRun + "--run-dir " + dir +
                            " --inject-failure-step 4 --inject-failure-rank 0"
                            " --inject-failure hang --hang-factor 5 --hang-min-seconds 3");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.seconds, 60);
  EXPECT_NE(result.output.find("step 4 has run for"), std::string::npos) << result.output;
}

// The evaluation is collective too: a rank that stops responding there used to hang the job
// until its wall-time limit, as the watchdog only watched training steps.
TEST(TrainCommandTest, ARankHungInTheEvaluationIsDetectedAndTheJobAborted) {
  const std::string dir = fresh_directory("rank-hangs-in-evaluation");
  auto result = run_convoy_mpi(2,
                               kSmallRun + "--run-dir " + dir +
                                   " --max-steps 3 --inject-failure hang-in-evaluation"
                                   " --inject-failure-step 3 --inject-failure-rank 1"
                                   " --hang-factor 5 --hang-min-seconds 3",
                               /*timeout_seconds=*/60);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.exit_code, 124) << "not detected within 60 s";
  EXPECT_NE(result.output.find("the evaluation after step 3 has run for"), std::string::npos)
      << result.output;
}

TEST(TrainCommandTest, SigusrOneCheckpointsAndExitsWithTheRequeueCode) {
  const std::string dir = fresh_directory("preempted");
  // The signal arrives while training (once the first step is logged); convoy finishes the
  // step, saves, and exits 75.
  auto result =
      run_command("cd " + dir + " && (OMP_NUM_THREADS=1 " + CONVOY_BINARY + " " +
                  kSmallRunWithoutEpochs + "--run-dir " + dir +
                  " --epochs 50 & pid=$!; for i in $(seq 600); do "
                  "[ -s " +
                  dir + "/metrics.jsonl ] && break; sleep 0.1; done; kill -USR1 $pid; wait $pid)");
  EXPECT_EQ(result.exit_code, 75) << result.output;
  EXPECT_NE(result.output.find("stopped by signal"), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(dir + "/latest"));
}

// MPI_Init waits until every rank has started; a preemption signal in that wait killed the
// rank (exit 138, so the batch script did not requeue). Rank 1 starts 4 s late, and rank 0 gets
// SIGUSR1 while it waits for it in MPI_Init: it trains one step, checkpoints and exits 75.
TEST(TrainCommandTest, SigusrOneWhileRanksStartUpIsAPreemptionNotAKill) {
  const std::string dir = fresh_directory("preempted-in-mpi-init");
  const std::string train = std::string(CONVOY_BINARY) + " " + kSmallRun + "--run-dir " + dir;
  const std::string job = "mpirun --oversubscribe --bind-to none -np 1 " + train +
                          " : -np 1 sh -c 'sleep 4; exec " + train + "'";
  auto result = run_command(
      "export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; " + job +
      " & job=$!; sleep 2; kill -USR1 $(pgrep -P $job -x convoy); wait $job");
  EXPECT_EQ(result.exit_code, 75) << result.output;
  EXPECT_NE(result.output.find("stopped by signal 10 after step 1"), std::string::npos)
      << result.output;
  EXPECT_TRUE(fs::exists(dir + "/checkpoint-step00000001.h5"));
}

TEST(TrainCommandTest, KillDashNineDuringCheckpointWritesLeavesAValidCheckpoint) {
  const std::string dir = fresh_directory("kill-9");
  // A checkpoint every step: most of the run is spent writing one, so each kill -9 lands in or
  // next to a write. Three kills at different moments, then an ordinary resume.
  for (double delay : {0.7, 1.3, 2.1}) {
    auto killed = run_command("(OMP_NUM_THREADS=1 " + std::string(CONVOY_BINARY) + " " +
                              kSmallRunWithoutEpochs + "--run-dir " + dir +
                              " --epochs 50 --checkpoint-every 1 --keep-checkpoints 2 & pid=$!; "
                              "for i in $(seq 600); do [ -e " +
                              dir + "/latest ] && break; sleep 0.1; done; sleep " +
                              std::to_string(delay) + "; kill -9 $pid; wait $pid)");
    EXPECT_EQ(killed.exit_code, 128 + 9) << killed.output;
    auto inspect = run_convoy("inspect " + dir + "/latest");
    EXPECT_EQ(inspect.exit_code, 0) << "after kill -9 at +" << delay << " s: " << inspect.output;
  }
  auto resumed = run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 40");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
}

TEST(EvalCommandTest, ReportsTheSameCountsOnOneAndFourRanks) {
  const std::string dir = fresh_directory("eval");
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 4").exit_code, 0);
  auto one = run_convoy("eval --checkpoint " + dir + "/latest --test-samples 203 --json");
  auto four = run_convoy_mpi(4, "eval --checkpoint " + dir + "/latest --test-samples 203 --json");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  ASSERT_EQ(four.exit_code, 0) << four.output;
  auto a = nlohmann::json::parse(one.standard_output),
       b = nlohmann::json::parse(four.standard_output);
  EXPECT_EQ(a["samples"], 203);
  EXPECT_EQ(a["correct_top1"], b["correct_top1"]);
  EXPECT_EQ(a["correct_top5"], b["correct_top5"]);
  EXPECT_EQ(a["confusion_matrix"], b["confusion_matrix"]);
  EXPECT_NEAR(a["loss"].get<double>(), b["loss"].get<double>(), 1e-6);
}

TEST(InspectCommandTest, ListsTorchvisionNamesAndShapesWithoutAModel) {
  const std::string dir = fresh_directory("inspect");
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + dir + " --max-steps 2").exit_code, 0);
  auto result = run_convoy("inspect " + dir + "/latest --json");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto info = nlohmann::json::parse(result.standard_output);
  EXPECT_EQ(info["recipe"], "fashion-resnet20");
  EXPECT_EQ(info["step"], 2);
  EXPECT_EQ(info["model"]["conv1.weight"], nlohmann::json::array({16, 1, 3, 3}));
  EXPECT_EQ(info["model"]["layer2.0.downsample.0.weight"], nlohmann::json::array({32, 16, 1, 1}));
  EXPECT_EQ(info["model"]["fc.weight"], nlohmann::json::array({10, 64}));
  EXPECT_TRUE(info["optimizer_state"].contains("fc.weight.momentum_buffer"));
}

TEST(TrainCommandTest, Bf16TrainsWhereTheCpuHasItAndIsRefusedByNameElsewhere) {
  const std::string f32 = fresh_directory("precision-f32"),
                    bf16 = fresh_directory("precision-bf16");
  auto unknown = run_convoy(kSmallRun + "--run-dir " + bf16 + " --precision fp16");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("--precision must be fp32 or bf16, got 'fp16'"), std::string::npos)
      << unknown.output;

  if (!kernels::cpu_has_bf16()) {
    // oneDNN 2.6 has no bf16 primitive below AVX-512: the run must stop before training, naming
    // the CPU's ISA, and write no checkpoint.
    auto refused = run_convoy(kSmallRun + "--run-dir " + bf16 + " --precision bf16");
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_NE(refused.output.find(std::string("--precision bf16 needs a CPU with AVX512-BF16 or "
                                              "AMX; this one has ") +
                                  kernels::cpu_isa_name()),
              std::string::npos)
        << refused.output;
    EXPECT_FALSE(fs::exists(bf16 + "/latest"));
    GTEST_SKIP() << "this CPU's best ISA is " << kernels::cpu_isa_name()
                 << ": the refusal is checked, bf16 training cannot be";
  }
  ASSERT_EQ(run_convoy(kSmallRun + "--run-dir " + f32).exit_code, 0);
  auto result = run_convoy(kSmallRun + "--run-dir " + bf16 + " --precision bf16");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // Mean of the first and last four logged training losses of a run.
  auto start_and_end_loss = [](const std::vector<nlohmann::json>& steps) {
    double start = 0, end = 0;
    for (int i = 0; i < 4; ++i) {
      start += steps[i]["loss"].get<double>() / 4;
      end += steps[steps.size() - 1 - i]["loss"].get<double>() / 4;
    }
    return std::pair{start, end};
  };
  const auto bf16_steps = metrics(bf16, "train");
  ASSERT_EQ(bf16_steps.size(), 32u);
  const auto [bf16_start, bf16_end] = start_and_end_loss(bf16_steps);
  const auto [f32_start, f32_end] = start_and_end_loss(metrics(f32, "train"));
  EXPECT_LT(bf16_end, bf16_start / 1.6) << "bf16 loss should fall as the f32 one does";
  // Same data order and initial weights: the curves stay close (eval accuracy after 32 steps
  // on 512 images is too noisy to compare, BatchNorm's running statistics barely settled).
  EXPECT_NEAR(bf16_start, f32_start, 0.02);
  EXPECT_NEAR(bf16_end, f32_end, 0.25 * f32_end);
  // Master weights are f32 either way, but the arithmetic differs: so do the trained bits.
  EXPECT_NE(model_hash(bf16 + "/latest"), model_hash(f32 + "/latest"));
}

}  // namespace
}  // namespace convoy::testing
