// scripts/plot_health.py and scripts/plot_run.py write real PNG files, directly and through
// `convoy health`; scripts/plot_trace.py draws a `convoy bench --trace` file. matplotlib is a
// declared dependency (python3-matplotlib, installed by scripts/setup.sh and in CI): without it
// these tests fail rather than skip.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

const std::string kPython = "/usr/bin/python3";

// Two training steps with an evaluation and two health records of two layers; the second
// record has a non-finite gradient norm (written as null, as nlohmann::json writes NaN).
std::string metrics() {
  using nlohmann::json;
  auto health = [](int step, json grad_norm, double dead) {
    return json{{"kind", "health"},
                {"step", step},
                {"layers",
                 {{{"name", "conv1"},
                   {"type", "Conv2d"},
                   {"weight_norm", 1.5},
                   {"grad_norm", grad_norm},
                   {"update_ratio", 0.002 * step}},
                  {{"name", "relu"},
                   {"type", "ReLU"},
                   {"activation_mean", 0.4},
                   {"activation_std", 0.6},
                   {"dead_fraction", dead},
                   {"mean_abs_correlation", 0.3}}}}};
  };
  auto train = [](int step, double loss, double images_per_second) {
    return json{{"kind", "train"},
                {"step", step},
                {"epoch", 1},
                {"lr", 0.1},
                {"loss", loss},
                {"accuracy", 0.1 * step},
                {"images_per_second", images_per_second}};
  };
  const json evaluation = {{"kind", "eval"},  {"step", 2},   {"epoch", 1},   {"loss", 2.0},
                           {"accuracy", 0.3}, {"top5", 0.7}, {"samples", 64}};
  std::string text;
  for (const json& record : {train(1, 2.3, 0), health(1, 0.7, 0.0), train(2, 2.1, 250),
                             health(2, nullptr, 0.25), evaluation}) {
    text += record.dump() + "\n";
  }
  return text;
}

std::string run_dir_with_metrics(const std::string& name) {
  const std::string dir = fresh_directory(name);
  std::ofstream(dir + "/metrics.jsonl") << metrics();
  return dir;
}

// A PNG starts with these eight bytes; a plot of this size is well over a kilobyte.
void expect_png(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file) << path << " was not written";
  const std::string bytes((std::istreambuf_iterator<char>(file)), {});
  EXPECT_GT(bytes.size(), 1000u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
}

void require_matplotlib() {
  auto check = run_command(kPython + " -c 'import matplotlib'");
  ASSERT_EQ(check.exit_code, 0)
      << kPython
      << " cannot import matplotlib (apt-get install python3-matplotlib): " << check.output;
}

TEST(PlotScriptsTest, PlotHealthAndPlotRunWritePngFiles) {
  require_matplotlib();
  const std::string dir = run_dir_with_metrics("plot-scripts");
  const std::string scripts = std::string(CONVOY_SOURCE_DIR) + "/scripts/";
  auto health = run_command(kPython + " " + scripts + "plot_health.py " + dir);
  ASSERT_EQ(health.exit_code, 0) << health.output;
  expect_png(dir + "/health.png");
  auto run = run_command(kPython + " " + scripts + "plot_run.py " + dir + " --output " + dir +
                         "/curves.png");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_png(dir + "/curves.png");
}

TEST(PlotScriptsTest, PlotHealthWithoutHealthRecordsFailsNamingTheFile) {
  require_matplotlib();
  const std::string dir = fresh_directory("plot-scripts-empty");
  std::ofstream(dir + "/metrics.jsonl") << R"({"kind":"train","step":1,"loss":2.3})"
                                        << "\n";
  auto health = run_command(kPython + " " + CONVOY_SOURCE_DIR + "/scripts/plot_health.py " + dir);
  EXPECT_NE(health.exit_code, 0);
  EXPECT_NE(health.output.find(dir + "/metrics.jsonl has no health records"), std::string::npos)
      << health.output;
}

// A record convoy was writing when the run was killed, cut short without its newline.
const std::string kTornRecord = R"({"kind":"train","step":3,"epoch":1,"lr":0.1,"lo)";

// convoy writes each record with its newline, so a last line without one that is not JSON is a
// write cut short by a kill: the plots skip it with a warning (they exited 1 and drew nothing).
TEST(PlotScriptsTest, ATornLastLineIsSkippedWithAWarning) {
  require_matplotlib();
  const std::string dir = fresh_directory("plot-scripts-torn");
  std::ofstream(dir + "/metrics.jsonl") << metrics() << kTornRecord;
  const std::string scripts = kPython + " " + CONVOY_SOURCE_DIR + "/scripts/";
  for (const char* script : {"plot_run.py", "plot_health.py"}) {
    auto result = run_command(scripts + script + " " + dir + " --output " + dir + "/plot.png");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.standard_error.find(dir + "/metrics.jsonl:6: warning: skipping the last line"),
              std::string::npos)
        << result.standard_error;
    expect_png(dir + "/plot.png");
    std::filesystem::remove(dir + "/plot.png");
  }
}

// A bad line anywhere but last is an error naming the file and line, and so is a line that is
// JSON but not an object, or a record without a key the plot draws (those were tracebacks).
TEST(PlotScriptsTest, OtherBadLinesAreNamedOnOneLine) {
  require_matplotlib();
  const std::string dir = fresh_directory("plot-scripts-bad-lines");
  const std::string scripts = kPython + " " + CONVOY_SOURCE_DIR + "/scripts/";
  std::ofstream(dir + "/metrics.jsonl") << metrics() << kTornRecord << "\n" << metrics();
  auto middle = run_command(scripts + "plot_run.py " + dir);
  EXPECT_EQ(middle.exit_code, 1);
  EXPECT_EQ(middle.standard_error.rfind("plot_run.py: " + dir + "/metrics.jsonl:6: not JSON", 0),
            0u)
      << middle.standard_error;

  std::ofstream(dir + "/metrics.jsonl") << metrics() << "[1, 2]\n";
  auto list = run_command(scripts + "plot_health.py " + dir);
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_EQ(list.standard_error,
            "plot_health.py: " + dir + "/metrics.jsonl:6: not a JSON object but list [1, 2]\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/health.png"));

  std::ofstream(dir + "/metrics.jsonl") << metrics() << R"({"kind":"train","step":3,"loss":2})"
                                        << "\n";
  auto missing = run_command(scripts + "plot_run.py " + dir);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.standard_error, "plot_run.py: " + dir +
                                        "/metrics.jsonl:6: a \"train\" record without lr, "
                                        "accuracy, images_per_second\n");
}

// A run that resumed from the checkpoint of step 2 redid step 3, which its predecessor had
// logged before it died: the plots draw each step once, from the run that counts (the curves
// went back and forth over the redone steps).
TEST(PlotScriptsTest, AResumedRunsRecordsReplaceThoseOfTheStepsItRedid) {
  const std::string dir = fresh_directory("plot-scripts-resumed");
  const std::string list_records =
      kPython + " -c 'import sys; sys.path.insert(0, \"" + CONVOY_SOURCE_DIR +
      "/scripts\"); import metrics_records; print(\" \".join(r[\"kind\"] + str(r[\"step\"]) "
      "for r in metrics_records.records(sys.argv[1], \"test\")))' " + dir + "/metrics.jsonl";
  std::ofstream(dir + "/metrics.jsonl") << R"({"kind":"start","step":0,"resumed_from":null}
{"kind":"train","step":1}
{"kind":"train","step":2}
{"kind":"checkpoint","step":2}
{"kind":"train","step":3}
{"kind":"start","step":2,"resumed_from":"ckpt-2.h5"}
{"kind":"train","step":3}
{"kind":"eval","step":3}
)";
  auto resumed = run_command(list_records);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(resumed.standard_output, "start0 train1 train2 checkpoint2 start2 train3 eval3\n");

  std::ofstream(dir + "/metrics.jsonl") << R"({"kind":"train","step":1}
{"kind":"start","step":null}
)";
  auto bad = run_command(list_records);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.standard_error,
            "test: " + dir + "/metrics.jsonl:2: a \"start\" record needs an integer \"step\"\n");
}

TEST(PlotScriptsTest, ConvoyHealthWritesBothPlotsIntoTheRunDirectory) {
  require_matplotlib();
  const std::string dir = run_dir_with_metrics("plot-scripts-convoy");
  auto result = run_convoy("health " + dir);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("conv1: exploding: grad_norm is not finite at step 2"),
            std::string::npos)
      << result.output;
  expect_png(dir + "/health.png");
  expect_png(dir + "/run.png");
}

TEST(PlotScriptsTest, PlotTraceDrawsABenchTraceAndNamesAFileThatIsNotOne) {
  require_matplotlib();
  const std::string dir = fresh_directory("plot-trace");
  auto bench = run_convoy_mpi(2,
                              "bench --recipe fashion-resnet20 --batch 8 --steps 2 --warmup 1 "
                              "--input 1x16x16 --no-peak --threads 1 --bucket-mb 0.1 --trace " +
                                  dir + "/trace.json");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  const std::string script = kPython + " " + CONVOY_SOURCE_DIR + "/scripts/plot_trace.py ";
  auto plot = run_command(script + dir + "/trace.json --step 0");
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  expect_png(dir + "/trace.png");

  std::ofstream(dir + "/metrics.jsonl") << metrics();
  auto wrong = run_command(script + dir + "/metrics.jsonl");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find(dir + "/metrics.jsonl: not a convoy --trace file"),
            std::string::npos)
      << wrong.output;
  auto missing_step = run_command(script + dir + "/trace.json --step 5");
  EXPECT_NE(missing_step.exit_code, 0);
  EXPECT_NE(missing_step.output.find("--step 5: the trace has 2 steps"), std::string::npos)
      << missing_step.output;
}

}  // namespace
}  // namespace convoy::testing
