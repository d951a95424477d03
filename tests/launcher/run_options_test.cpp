// The options of a run are checked before any work starts: out of range, not one of their
// words, or different between the ranks of one job.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

TEST(RunOptionsTest, ValuesOutOfRangeAreUsageErrorsNamingTheOptionBeforeAnyWork) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--epochs 0", "--epochs must be at least 1, got 0"},
      {"--epochs 1",
       "--epochs must be more than --warmup-epochs (1) for the cosine schedule, got 1"},
      {"--batch-size 0", "--batch-size must be at least 1, got 0"},
      {"--crop-padding -3", "--crop-padding must be in [0, 8192] pixels, got -3"},
      {"--center-crop 1000000", "--center-crop must be in [0, 8192] pixels, got 1000000"},
      {"--max-steps -5", "--max-steps must be at least 0, got -5"},
      {"--lr -0.5", "--lr must be finite and at least 0, got -0.5"},
      {"--momentum 0", "--momentum must be above 0 with --nesterov true, got 0"},
      {"--init-skip fc", "--init-skip must be given with --init-from, got fc"},
      {"--hang-factor 1.5", "--hang-factor must be 0 (off) or at least 2, got 1.5"},
      {"--init-from a.h5 --resume b.h5",
       "--resume must be auto or none with --init-from (a resumed run keeps its own weights), "
       "got b.h5"},
      {"--target-accuracy nan", "--target-accuracy must be a fraction in [0, 1] (0: off), got nan"},
      {"--bucket-mb 0", "--bucket-mb must be finite and above 0, got 0"},
      {"--schedule multistep --milestones 5,1",
       "--milestones must be positive epochs in increasing order, got 5,1"},
      {"--on-nonfinite skpi", "--on-nonfinite must be stop or skip, got 'skpi'"},
      {"--optimizer lamb", "--optimizer must be sgd or adamw, got 'lamb'"},
      {"--schedule linear", "--schedule must be constant, step, multistep or cosine, got 'linear'"},
      {"--progress fancy", "--progress must be bar, lines or auto, got 'fancy'"},
      {"--architecture resnet19", "--architecture must be resnet18, resnet34, "},
      {"--epochs 3 10", "unexpected argument '10' (every value follows its --option; see --help)"},
      // These words were refused only after the run folder was made and the data set read.
      {"--dataset fashion", "--dataset must be fashion-mnist, mnist, cifar10, cifar100, "
                            "image-folder, hdf5 or synthetic, got 'fashion'"},
      {"--precision fp16", "--precision must be fp32 or bf16, got 'fp16'"},
      {"--winograd sometimes", "--winograd sometimes: expected auto, always or never"},
      {"--winograd-tile 3", "--winograd-tile 3: expected auto, 2 or 4"},
  };
  const std::string run_dir = fresh_directory("bad-options") + "/run";
  for (const auto& [option, message] : cases) {
    auto result = run_convoy("train --recipe fashion-resnet20 --threads 1 --run-dir " + run_dir +
                             " " + option);
    EXPECT_EQ(result.exit_code, 2) << option << "\n" << result.output;
    EXPECT_EQ(result.output.rfind("convoy: " + message, 0), 0u) << option << "\n" << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  }
  EXPECT_FALSE(fs::exists(run_dir)) << "a refused run must not start: it created " << run_dir;
}

// Boost reads "-1" into an unsigned option as 2^64 - 1 (strtoull's rule): the run went on with
// that seed without a word. A one-step run, so a seed taken again trains for a second only.
TEST(RunOptionsTest, ANegativeOrTooLargeSeedIsAUsageErrorNamingTheRange) {
  const std::string run_dir = fresh_directory("bad-seed") + "/run";
  for (const std::string seed : {"-1", "18446744073709551616"}) {
    auto result = run_convoy(
        "train --recipe fashion-resnet20 --threads 1 --train-samples 32 --test-samples 32 "
        "--batch-size 32 --max-steps 1 --run-dir " +
        run_dir + " --seed " + seed);
    EXPECT_EQ(result.exit_code, 2) << seed << "\n" << result.output;
    EXPECT_EQ(result.output, "convoy: --seed must be a whole number in [0, 18446744073709551615], "
                             "got '" + seed + "'\n");
  }
  EXPECT_FALSE(fs::exists(run_dir)) << "a refused run must not start";
}

TEST(RunOptionsTest, EveryCommandRefusesAStrayArgument) {
  for (const char* arguments : {"summary --recipe fashion-resnet20 resnet56",
                                "inspect missing.h5 --json extra", "health some-run extra"}) {
    auto result = run_convoy(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    EXPECT_NE(result.output.find("unexpected argument '"), std::string::npos) << result.output;
  }
}

TEST(RunOptionsTest, ARecipeFileErrorNamesTheFile) {
  const std::string dir = fresh_directory("bad-recipes");
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"epochs = 2\nthis is not valid\n", "invalid line 'this is not valid'"},
           {"no-such-key = 3\n", "unrecognised option 'no-such-key'"},
           {"epochs = two\n", "('two') for option 'epochs' is invalid"}}) {
    const std::string recipe = dir + "/bad.cfg";
    std::ofstream(recipe) << text;
    auto result = run_convoy("train --recipe " + recipe);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(result.output.rfind("convoy: recipe " + recipe + ": ", 0), 0u) << result.output;
    EXPECT_NE(result.output.find(error), std::string::npos) << result.output;
  }
}

TEST(RunOptionsTest, EvalRefusesABatchBelowOneBeforeReadingTheCheckpoint) {
  auto result = run_convoy("eval --checkpoint missing.h5 --eval-batch 0");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output, "convoy: --eval-batch must be at least 1, got 0\n");
}

// Before this check, ranks with different global batches ran four steps and then waited for
// each other forever, and ranks with different seeds trained on overlapping shards.
TEST(RunOptionsTest, RanksStartedWithDifferentOptionsAreRefusedNamingTheOption) {
  const std::string dir = fresh_directory("ranks-disagree");
  const std::string run =
      "train --recipe fashion-resnet20 --train-samples 256 --test-samples 64 "
      "--threads 1 --max-steps 2 --run-dir " +
      dir;
  // mpirun's multiple-program form: rank 0 and rank 1 get their own command lines.
  auto result = run_convoy_mpi(
      1, run + " --batch-size 64 : -np 1 " + CONVOY_BINARY + " " + run + " --batch-size 32");
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_LT(result.seconds, 60) << result.output;
  EXPECT_NE(result.output.find("rank 1 runs with batch-size = 32 where rank 0 has batch-size = 64"
                               " (entry "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("every rank of a job must run with the same options"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir + "/metrics.jsonl")) << "no training may start";

  // bench's own options count too: ranks timing different step counts would wait forever.
  const std::string bench = "bench --recipe fashion-resnet20 --batch 16 --threads 1 --no-peak";
  auto timed =
      run_convoy_mpi(1, bench + " --steps 2 : -np 1 " + CONVOY_BINARY + " " + bench + " --steps 3");
  EXPECT_NE(timed.exit_code, 0) << timed.output;
  EXPECT_NE(timed.output.find("rank 1 runs with steps = 3 where rank 0 has steps = 2"),
            std::string::npos)
      << timed.output;
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

// torchrun and horovodrun print a bad command line once. Every rank of a convoy job refused it
// and printed it, and MPI_Abort added Open MPI's banner; an unknown command came once per rank
// with the whole command list.
TEST(RunOptionsTest, UnderMpirunAUsageErrorEveryRankSharesIsPrintedOnceByRankZero) {
  const std::string run_dir = fresh_directory("usage-once") + "/run";
  for (const auto& [arguments, message] : std::vector<std::pair<std::string, std::string>>{
           {"train --recipe fashion-resnet20 --threads 1 --run-dir " + run_dir + " --epochs 0",
            "--epochs must be at least 1, got 0"},
           {"trian --recipe fashion-resnet20", "unknown command 'trian' (commands: train, eval,"}}) {
    auto result = run_convoy_mpi(2, arguments, 60);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    EXPECT_EQ(occurrences(result.standard_error, message), 1u) << result.output;
    EXPECT_NE(result.standard_error.find("convoy: rank 0: " + message), std::string::npos)
        << result.output;
    EXPECT_EQ(result.output.find("MPI_ABORT"), std::string::npos) << result.output;
  }
  EXPECT_FALSE(fs::exists(run_dir)) << "a refused run must not start";
}

// A rank may refuse a command line of its own (here mpirun's multiple-program form; a recipe
// file one node lacks): it must still say so, alone or beside rank 0's other message.
TEST(RunOptionsTest, UnderMpirunAUsageErrorOnlyOneRankHasIsStillPrinted) {
  const std::string run = "train --recipe fashion-resnet20 --threads 1 --train-samples 64 " +
                          std::string("--run-dir ") + fresh_directory("usage-one-rank") + "/run";
  const std::string rank_one = " : -np 1 " + std::string(CONVOY_BINARY) + " " + run;
  auto alone = run_convoy_mpi(1, run + rank_one + " --epochs 0", 60);
  EXPECT_EQ(alone.exit_code, 2) << alone.output;
  EXPECT_NE(alone.standard_error.find("convoy: rank 1: --epochs must be at least 1, got 0"),
            std::string::npos)
      << alone.output;
  auto both = run_convoy_mpi(1, run + " --batch-size 0" + rank_one + " --epochs 0", 60);
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.standard_error.find("convoy: rank 0: --batch-size must be at least 1, got 0"),
            std::string::npos)
      << both.output;
  EXPECT_NE(both.standard_error.find("convoy: rank 1: --epochs must be at least 1, got 0"),
            std::string::npos)
      << both.output;
}

// A failure injected on a rank the job does not have would never fire, and a test of the
// failure path would pass for nothing.
TEST(RunOptionsTest, AFailureInjectedOnARankBeyondTheJobIsRefused) {
  auto result = run_convoy(
      "train --recipe fashion-resnet20 --threads 1 --train-samples 64 --batch-size 32 --run-dir " +
      fresh_directory("inject-rank") + "/run --inject-failure-step 1 --inject-failure-rank 1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output, "convoy: --inject-failure-rank 1 is not a rank of this 1-rank job\n");
}

}  // namespace
}  // namespace convoy::testing
