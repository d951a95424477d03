// `convoy bench` and `convoy bench-allreduce` report what they measured, in one process and
// under mpirun, and refuse what they cannot measure with one line and exit code 2. (No speed is
// asserted: speed belongs to the benchmark scripts, not to tests.)

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

nlohmann::json last_json_line(const std::string& output) {
  const auto start = output.rfind("\n{");
  return nlohmann::json::parse(start == std::string::npos ? output : output.substr(start + 1));
}

const std::string kSmallBench =
    "bench --recipe fashion-resnet20 --batch 8 --steps 2 --warmup 1 --input 1x16x16 --json "
    "--no-peak --threads 1";

TEST(BenchCommandTest, OneProcessReportsSpeedMemoryAndEveryLayer) {
  auto result = run_convoy(kSmallBench);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto report = last_json_line(result.standard_output);
  EXPECT_EQ(report["ranks"], 1);
  EXPECT_EQ(report["batch"], 8);
  EXPECT_GT(report["images_per_second"].get<double>(), 0);
  // 2 timed steps: the median is their mean, the fastest the smaller; both give ms per step.
  const double fastest = report["ms_per_step_min"].get<double>();
  EXPECT_GT(fastest, 0);
  EXPECT_LE(fastest, report["ms_per_step_median"].get<double>());
  EXPECT_NEAR(report["images_per_second"].get<double>(),
              8 / (report["ms_per_step_median"].get<double>() / 1e3), 1e-6);
  EXPECT_GT(report["peak_rss_mb"].get<double>(), 0);
  EXPECT_EQ(report["buckets"], 0);
  // resnet20: stem 3 + 9 blocks x 7 (conv, bn, relu, conv, bn, add, relu) + 2 downsamples x 2
  // + avgpool, flatten, fc
  EXPECT_EQ(report["layers"].size(), 73u);
}

std::string implementation_of(const nlohmann::json& report, const std::string& layer) {
  for (const auto& row : report["layers"]) {
    if (row["name"] == layer) return row["implementation"].get<std::string>();
  }
  ADD_FAILURE() << "no layer " << layer << " in the report";
  return "";
}

// VGG's last convolutions see 2x2 maps, where oneDNN 2.6 on AVX2 picked its reference loop for
// backward-weights until the kernel layer learned to avoid it: the bench reports such time.
// They run as matmuls by default; --whole-map-matmul false puts them back on the convolution
// primitives, which must not fall back to the reference loop either. The per-layer rows name
// the implementation, so the switch is seen to act.
TEST(BenchCommandTest, NoStepTimeRunsInOneDnnReferenceLoops) {
  const std::string vgg =
      "bench --architecture vgg11_bn --variant cifar --batch 4 --input 3x32x32 --classes 10 "
      "--steps 2 --warmup 1 --json --no-peak --threads 1";
  for (const bool whole_map : {true, false}) {
    auto result = run_convoy(vgg + " --whole-map-matmul " + (whole_map ? "true" : "false"));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto report = last_json_line(result.standard_output);
    ASSERT_TRUE(report.contains("reference_loop_share")) << result.output;
    EXPECT_EQ(report["reference_loop_share"].get<double>(), 0.0)
        << "on ISA " << report["isa"] << ", whole-map matmul " << whole_map;
    const std::string chosen = implementation_of(report, "features.22");
    EXPECT_EQ(chosen.rfind("whole-map matmul", 0) == 0, whole_map) << chosen;
    // The convolution, BatchNorm and pooling before it name theirs, none a reference loop.
    for (const char* layer : {"features.0", "features.1", "features.3"}) {
      const std::string name = implementation_of(report, layer);
      EXPECT_NE(name, "") << layer;
      EXPECT_EQ(name.find("ref"), std::string::npos) << layer << ": " << name;
    }
  }
}

// --im2col-matmul always puts every convolution of resnet20 on im2col + matmul (auto leaves
// its 16-64-channel maps to the primitives), never on none; the per-layer rows show which ran.
// Another value is refused naming the option before any work.
TEST(BenchCommandTest, Im2colMatmulOptionChoosesTheConvolutionPath) {
  for (const std::string when : {"always", "never"}) {
    auto result = run_convoy(kSmallBench + " --im2col-matmul " + when);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto report = last_json_line(result.standard_output);
    for (const char* layer : {"conv1", "layer1.0.conv1", "layer3.2.conv2"}) {
      const std::string chosen = implementation_of(report, layer);
      EXPECT_EQ(chosen.rfind("im2col matmul", 0) == 0, when == "always") << layer << ": " << chosen;
    }
  }
  auto bad = run_convoy(kSmallBench + " --im2col-matmul sometimes");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--im2col-matmul sometimes: expected auto, always or never"),
            std::string::npos)
      << bad.output;
  EXPECT_EQ(bad.output.find("\"images_per_second\""), std::string::npos) << "ran anyway";
}

// --winograd always puts resnet20's 3x3 stride-1 convolutions on Winograd (its one-channel stem
// too, which auto leaves to the primitives), never on none; stride 2 stays off it. The transforms
// are convoy's own kernel loops, reported apart from framework overhead; with every lowered path
// off, no such loop runs. Every row's layout conversions are a part of its time.
TEST(BenchCommandTest, WinogradOptionChoosesTheConvolutionPath) {
  for (const std::string when : {"always", "never"}) {
    auto result = run_convoy(kSmallBench + " --winograd " + when +
                             " --im2col-matmul never --whole-map-matmul false");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto report = last_json_line(result.standard_output);
    for (const char* layer : {"conv1", "layer1.0.conv1", "layer2.1.conv2"}) {
      const std::string chosen = implementation_of(report, layer);
      EXPECT_EQ(chosen.rfind("winograd", 0) == 0, when == "always") << layer << ": " << chosen;
    }
    const std::string strided = implementation_of(report, "layer2.0.conv1");
    EXPECT_EQ(strided.find("winograd"), std::string::npos) << strided;
    for (const auto& row : report["layers"]) {
      for (const std::string pass : {"forward", "backward"}) {
        const double reorder_ms = row[pass + "_reorder_ms"].get<double>();
        EXPECT_GE(reorder_ms, 0.0) << row["name"] << " " << pass;
        EXPECT_LE(reorder_ms, row[pass + "_ms"].get<double>()) << row["name"] << " " << pass;
      }
    }
    const double own_loops = report["own_kernel_loop_share"].get<double>();
    if (when == "always") {
      EXPECT_GT(own_loops, 0.0);
    } else {
      EXPECT_EQ(own_loops, 0.0);
    }
    EXPECT_LE(own_loops + report["framework_overhead_share"].get<double>() +
                  report["reorder_share"].get<double>(),
              1.0);
  }
  auto bad = run_convoy(kSmallBench + " --winograd maybe");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--winograd maybe: expected auto, always or never"), std::string::npos)
      << bad.output;
  EXPECT_EQ(bad.output.find("\"images_per_second\""), std::string::npos) << "ran anyway";
}

// --winograd-tile chooses the output block for every Winograd layer (resnet20's 16x16 maps would
// take 4x4 blocks by the rule, 2x2 forced here); anything but auto, 2 or 4 is refused.
TEST(BenchCommandTest, WinogradTileOptionChoosesTheOutputBlock) {
  for (const std::string block : {"2", "4"}) {
    auto result = run_convoy(kSmallBench + " --winograd always --winograd-tile " + block);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto report = last_json_line(result.standard_output);
    const std::string expected = "winograd F(" + block + "x" + block + ",3x3) ";
    for (const char* layer : {"layer1.0.conv1", "layer3.2.conv2"}) {
      const std::string chosen = implementation_of(report, layer);
      EXPECT_EQ(chosen.rfind(expected, 0), 0u) << layer << ": " << chosen;
    }
  }
  auto bad = run_convoy(kSmallBench + " --winograd-tile 3");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--winograd-tile 3: expected auto, 2 or 4"), std::string::npos)
      << bad.output;
  EXPECT_EQ(bad.output.find("\"images_per_second\""), std::string::npos) << "ran anyway";
}

// --winograd-groups chooses Winograd's schedule for every Winograd layer: tile groups (the rule's
// choice for resnet20's 16 and 32 channels, and for its 64 with AVX-512) or batched matmuls (its
// choice for 64 channels on AVX2); anything but auto, always or never is refused.
TEST(BenchCommandTest, WinogradGroupsOptionChoosesTheSchedule) {
  const std::string for_the_isa = "the rule's choice for the ISA";
  const std::map<std::string, std::map<std::string, std::string>> expected = {
      {"auto", {{"layer1.0.conv1", "in groups of"}, {"layer3.2.conv2", for_the_isa}}},
      {"always", {{"layer1.0.conv1", "in groups of"}, {"layer3.2.conv2", "in groups of"}}},
      {"never", {{"layer1.0.conv1", "matmul"}, {"layer3.2.conv2", "matmul"}}}};
  for (const auto& [when, schedules] : expected) {
    auto result = run_convoy(kSmallBench + " --winograd always --winograd-groups " + when);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto report = last_json_line(result.standard_output);
    const bool avx512 = report["isa"].get<std::string>().rfind("avx512", 0) == 0;
    for (auto [layer, schedule] : schedules) {
      if (schedule == for_the_isa) schedule = avx512 ? "in groups of" : "matmul";
      const std::string chosen = implementation_of(report, layer);
      EXPECT_NE(chosen.find(schedule), std::string::npos)
          << when << ", " << layer << ": " << chosen;
    }
  }
  auto bad = run_convoy(kSmallBench + " --winograd-groups sometimes");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--winograd-groups sometimes: expected auto, always or never"),
            std::string::npos)
      << bad.output;
}

TEST(BenchCommandTest, TwoRanksShareTheGlobalBatchAndMeasureTheAllreduce) {
  auto result = run_convoy_mpi(2, kSmallBench + " --bucket-mb 0.1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto report = last_json_line(result.standard_output);
  EXPECT_EQ(report["ranks"], 2);
  EXPECT_EQ(report["batch"], 8);               // global
  EXPECT_GT(report["buckets"].get<int>(), 1);  // 1.1 MB of gradients in 0.1 MB buckets
  EXPECT_GT(report["allreduce_ms_per_step"].get<double>(), 0);
  const double hidden = report["allreduce_hidden_fraction"];
  EXPECT_GE(hidden, 0.0);
  EXPECT_LE(hidden, 1.0);
  // Only rank 0 prints the report.
  EXPECT_EQ(result.output.find("\"ranks\""), result.output.rfind("\"ranks\""));
}

// --trace: one Chrome trace for both ranks, where every layer's forward and backward, the
// optimizer and every bucket's allreduce of every timed step lie inside that step's span.
TEST(BenchCommandTest, TwoRanksWriteOneTraceWithEveryLayerAndEveryBucketInsideItsStep) {
  const std::string path = fresh_directory("bench-trace") + "/trace.json";
  auto result = run_convoy_mpi(2, kSmallBench + " --bucket-mb 0.1 --trace " + path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const int buckets = last_json_line(result.standard_output)["buckets"];
  std::ifstream file(path);
  ASSERT_TRUE(file) << "no trace at " << path << "\n" << result.output;
  const nlohmann::json trace = nlohmann::json::parse(file);
  for (int rank : {0, 1}) {
    std::vector<nlohmann::json> steps, spans;
    std::string process_name;
    for (const auto& event : trace["traceEvents"]) {
      if (event["pid"] != rank) continue;
      if (event["name"] == "process_name") process_name = event["args"]["name"];
      if (event["ph"] != "X") continue;
      (event["name"] == "step" ? steps : spans).push_back(event);
    }
    EXPECT_EQ(process_name, "rank " + std::to_string(rank));
    ASSERT_EQ(steps.size(), 2u) << "the 2 timed steps, not the warm-up";
    auto count = [&](const std::string& suffix) {
      return std::count_if(spans.begin(), spans.end(), [&](const nlohmann::json& span) {
        const std::string name = span["name"];
        return name.size() >= suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      });
    };
    EXPECT_EQ(count(" forward"), 2 * 73) << "resnet20's 73 layers, each step";
    EXPECT_EQ(count(" backward"), 2 * 73);
    EXPECT_EQ(count("optimizer"), 2);
    const auto allreduces = std::count_if(
        spans.begin(), spans.end(), [](const auto& span) { return span["cat"] == "allreduce"; });
    EXPECT_EQ(allreduces, 2 * buckets);
    for (const auto& span : spans) {
      const double begin = span["ts"], end = begin + span["dur"].get<double>();
      const bool inside = std::any_of(steps.begin(), steps.end(), [&](const nlohmann::json& step) {
        const double step_begin = step["ts"];
        return begin >= step_begin - 1 && end <= step_begin + step["dur"].get<double>() + 1;
      });
      EXPECT_TRUE(inside) << span["name"] << " on rank " << rank << " lies outside every step";
    }
  }
}

TEST(BenchCommandTest, ATracePathThatCannotBeWrittenFailsBeforeTheRunNamingIt) {
  auto result = run_convoy(kSmallBench + " --trace /no-such-directory/trace.json");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("/no-such-directory/trace.json: cannot write the trace (--trace)"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("\"images_per_second\""), std::string::npos) << "ran anyway";
}

TEST(BenchCommandTest, AGlobalBatchThatDoesNotSplitOverTheRanksIsAUsageError) {
  auto result = run_convoy_mpi(2, "bench --recipe fashion-resnet20 --batch 7 --steps 1 --no-peak");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(
      result.output.find("--batch 7 is the global batch and must be divisible by the 2 ranks"),
      std::string::npos)
      << result.output;
}

// Each negative size is refused by name (0 means "the recipe's" for --batch and --classes;
// a negative value once fell through to that default unnoticed).
TEST(BenchCommandTest, NegativeSizesAreUsageErrorsNamingTheOption) {
  const struct {
    const char* option;
    const char* message;
  } cases[] = {
      {"--batch -4", "--batch must be at least 1 (or 0 for the recipe's), got -4"},
      {"--warmup -1", "--warmup must be at least 0, got -1"},
      {"--classes -3", "--classes must be at least 1 (or 0 for the dataset's), got -3"},
  };
  for (const auto& c : cases) {
    auto result =
        run_convoy(std::string("bench --recipe fashion-resnet20 --steps 1 --no-peak ") + c.option);
    EXPECT_EQ(result.exit_code, 2) << c.option << "\n" << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.option << "\n"
                                                                << result.output;
    EXPECT_EQ(result.output.find("images/s"), std::string::npos) << c.option << ": ran anyway";
  }
}

TEST(AllreduceBenchCommandTest, ReportsEachSizeBesideItsBandwidthBound) {
  auto result =
      run_convoy_mpi(2,
                     "bench-allreduce --sizes-mb 0.01,0.1 --link-mb 1 --repetitions 2 --json "
                     "--recipe fashion-resnet20");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto report = last_json_line(result.standard_output);
  EXPECT_EQ(report["ranks"], 2);
  ASSERT_EQ(report["rows"].size(), 3u);
  EXPECT_EQ(report["rows"][0]["bytes"], 10000);
  EXPECT_EQ(report["rows"][1]["bytes"], 100000);
  EXPECT_EQ(report["rows"][2]["what"], "resnet20 gradients");
  for (const auto& row : report["rows"]) {
    // p = 2: the bound is N / B(N/2) exactly.
    const double expected_bound_ms =
        row["bytes"].get<double>() / (row["link_bandwidth_gbs"].get<double>() * 1e9) * 1e3;
    EXPECT_NEAR(row["bound_ms"].get<double>(), expected_bound_ms, 1e-9 + 1e-9 * expected_bound_ms);
    EXPECT_GT(row["allreduce_ms"].get<double>(), 0);
  }
}

TEST(AllreduceBenchCommandTest, RefusesOneRankAndBadSizes) {
  auto one_rank = run_convoy("bench-allreduce --repetitions 1");
  EXPECT_EQ(one_rank.exit_code, 2) << one_rank.output;
  EXPECT_NE(one_rank.output.find("needs at least two ranks"), std::string::npos) << one_rank.output;
  auto bad_size = run_convoy("bench-allreduce --sizes-mb 1,lots");
  EXPECT_EQ(bad_size.exit_code, 2) << bad_size.output;
  EXPECT_NE(bad_size.output.find("--sizes-mb: 'lots' is not a size in MB"), std::string::npos)
      << bad_size.output;
  for (const char* link : {"0", "-1", "2048", "nan"}) {
    auto bad_link = run_convoy(std::string("bench-allreduce --link-mb ") + link);
    EXPECT_EQ(bad_link.exit_code, 2) << bad_link.output;
    EXPECT_EQ(bad_link.output,
              "convoy: --link-mb must be a size in MB above 0 and at most 1024, got " +
                  std::string(link) + "\n");
  }
}

}  // namespace
}  // namespace convoy::testing
