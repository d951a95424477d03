// End-to-end tests of `train --health-every` and `convoy health`: the records carry every
// statistic, the table lists every layer, a far too large learning rate is flagged, flags
// follow the documented thresholds, and missing inputs are clear errors.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

// ResNet-20 on 256 Fashion-MNIST images, batch 32: a second per run.
const std::string kTinyRun =
    "train --recipe fashion-resnet20 --train-samples 256 --test-samples 64 --batch-size 32 "
    "--threads 1 --workers 1 --progress lines --log-every 1 ";

std::vector<nlohmann::json> health_records(const std::string& run_dir) {
  std::vector<nlohmann::json> records;
  std::ifstream file(run_dir + "/metrics.jsonl");
  for (std::string line; std::getline(file, line);) {
    auto record = nlohmann::json::parse(line);
    if (record["kind"] == "health") records.push_back(record);
  }
  return records;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(HealthCommandTest, TrainingRecordsEveryStatisticAndHealthPrintsTheTable) {
  const std::string dir = fresh_directory("health-small-lr");
  auto train = run_convoy(kTinyRun + "--lr 0.01 --max-steps 4 --health-every 2 --run-dir " + dir);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const auto records = health_records(dir);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["step"], 2);
  EXPECT_EQ(records[1]["step"], 4);
  std::set<std::string> names;
  for (const auto& layer : records[1]["layers"]) {
    const std::string name = layer["name"], type = layer["type"];
    names.insert(name);
    if (type == "ReLU") {
      for (const char* key :
           {"activation_mean", "activation_std", "dead_fraction", "mean_abs_correlation"}) {
        ASSERT_TRUE(layer.contains(key) && layer[key].is_number()) << name << " " << key;
      }
      EXPECT_GE(layer["activation_mean"].get<double>(), 0) << name << ": a ReLU output";
      EXPECT_GT(layer["activation_std"].get<double>(), 0) << name;
      EXPECT_FALSE(layer.contains("grad_norm")) << name;
    } else {
      EXPECT_TRUE(type == "Conv2d" || type == "BatchNorm2d" || type == "Linear") << type;
      for (const char* key : {"weight_norm", "grad_norm", "update_ratio"}) {
        ASSERT_TRUE(layer.contains(key) && layer[key].is_number()) << name << " " << key;
        EXPECT_GT(layer[key].get<double>(), 0) << name << " " << key;
      }
    }
  }
  // 19 convolutions + 19 BatchNorms + 2 downsample pairs + fc + 19 ReLU outputs; torchvision
  // reuses one ReLU module per block, so the second use is "#2".
  EXPECT_EQ(names.size(), 62u);
  for (const char* name :
       {"conv1", "bn1", "relu", "layer1.0.relu#2", "layer3.0.downsample.0", "fc"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }

  auto health = run_convoy("health " + dir + " --no-plots");
  ASSERT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("2 record(s), steps 2..4"), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("\nlayer3.2.relu#2 "), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("\nfc "), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("no flags: every layer looks healthy"), std::string::npos)
      << health.output;
}

TEST(HealthCommandTest, AFarTooLargeLearningRateIsFlagged) {
  // lr 5 (50x the recipe's): updates of 10-70 % of the weights per step. Same seed, same run.
  const std::string dir = fresh_directory("health-large-lr");
  auto train = run_convoy(kTinyRun + "--lr 5 --max-steps 6 --health-every 1 --run-dir " + dir);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_EQ(health_records(dir).size(), 6u);
  auto health = run_convoy("health " + dir + " --no-plots");
  ASSERT_EQ(health.exit_code, 0) << health.output;
  for (const char* flag : {"\nconv1: update-ratio: median update / weight ratio ",
                           "\nfc: update-ratio: ", "lower the learning rate?"}) {
    EXPECT_NE(health.output.find(flag), std::string::npos) << flag << "\n" << health.output;
  }
  EXPECT_NE(health.output.find(" layers flagged ("), std::string::npos) << health.output;
}

TEST(HealthCommandTest, FlagsFollowTheDocumentedThresholds) {
  const std::string dir = fresh_directory("health-flags");
  // Two records; per layer only the statistic under test is off.
  auto record = [](int step, double dead, double correlation, double vanishing_grad,
                   const std::string& exploding_grad, double ratio) {
    return "{\"kind\":\"health\",\"step\":" + std::to_string(step) + ",\"layers\":[" +
           "{\"name\":\"ok\",\"type\":\"Conv2d\",\"weight_norm\":1,\"grad_norm\":0.1,"
           "\"update_ratio\":0.001}," +
           "{\"name\":\"ok2\",\"type\":\"Conv2d\",\"weight_norm\":2,\"grad_norm\":0.2,"
           "\"update_ratio\":0.001}," +
           "{\"name\":\"slow\",\"type\":\"Conv2d\",\"weight_norm\":1,\"grad_norm\":" +
           std::to_string(vanishing_grad) + ",\"update_ratio\":0.001}," +
           "{\"name\":\"wild\",\"type\":\"Linear\",\"weight_norm\":1,\"grad_norm\":" +
           exploding_grad + ",\"update_ratio\":0.001}," +
           "{\"name\":\"big-steps\",\"type\":\"Conv2d\",\"weight_norm\":1,\"grad_norm\":0.1,"
           "\"update_ratio\":" +
           std::to_string(ratio) + "}," +
           "{\"name\":\"relu\",\"type\":\"ReLU\",\"activation_mean\":0.5,\"activation_std\":1,"
           "\"dead_fraction\":" +
           std::to_string(dead) + ",\"mean_abs_correlation\":" + std::to_string(correlation) +
           "}]}\n";
  };
  write_file(dir + "/metrics.jsonl", "{\"kind\":\"train\",\"step\":1,\"loss\":2.3}\n" +
                                         record(1, 0.25, 0.5, 0.1, "0.1", 0.2) +
                                         record(2, 0.75, 0.9, 1e-5, "null", 0.3));
  auto health = run_convoy("health " + dir + " --no-plots");
  ASSERT_EQ(health.exit_code, 0) << health.output;
  const std::string& out = health.output;
  EXPECT_NE(out.find("\nrelu: dead: 75 % of the channels"), std::string::npos) << out;
  EXPECT_NE(out.find("\nrelu: correlated: mean |r| between channels 0.900 > 0.8"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nslow: vanishing: gradient norm / weight norm 1e-05 is over 1000x below"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nwild: exploding: grad_norm is not finite at step 2"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\nbig-steps: update-ratio: median update / weight ratio 0.25 is outside"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("\nok: "), std::string::npos) << out;
  EXPECT_EQ(out.find("\nok2: "), std::string::npos) << out;
  EXPECT_NE(out.find("4 of 6 layers flagged (correlated 1, dead 1, exploding 1, update-ratio 1, "
                     "vanishing 1)"),
            std::string::npos)
      << out;
}

TEST(HealthCommandTest, MissingMetricsOrNoHealthRecordsAreClearErrors) {
  const std::string dir = fresh_directory("health-errors");
  auto missing = run_convoy("health " + dir);
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("cannot read " + dir + "/metrics.jsonl"), std::string::npos)
      << missing.output;
  write_file(dir + "/metrics.jsonl", "{\"kind\":\"train\",\"step\":1,\"loss\":2.3}\n");
  auto no_records = run_convoy("health " + dir);
  EXPECT_EQ(no_records.exit_code, 1) << no_records.output;
  EXPECT_NE(no_records.output.find(dir + "/metrics.jsonl has no health records"), std::string::npos)
      << no_records.output;
  EXPECT_NE(no_records.output.find("--health-every N"), std::string::npos) << no_records.output;
  auto no_argument = run_convoy("health");
  EXPECT_EQ(no_argument.exit_code, 2) << no_argument.output;
}

TEST(HealthCommandTest, WithoutMatplotlibTheTableIsStillPrintedWithAWarning) {
  const std::string dir = fresh_directory("health-no-python");
  write_file(dir + "/metrics.jsonl",
             "{\"kind\":\"health\",\"step\":3,\"layers\":[{\"name\":\"fc\",\"type\":\"Linear\","
             "\"weight_norm\":1,\"grad_norm\":0.1,\"update_ratio\":0.001}]}\n");
  auto health = run_convoy("health " + dir + " --python /bin/false");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("\nfc "), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("warning: /bin/false cannot import matplotlib"), std::string::npos)
      << health.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/health.png"));
}

// A run killed while writing a record leaves a last line cut short, without its newline: the
// table is printed from the records before it (convoy health exited 1 on that line). A bad line
// that is not last is still an error naming it.
TEST(HealthCommandTest, ATornLastLineIsSkippedWithAWarning) {
  const std::string dir = fresh_directory("health-torn");
  const std::string record =
      "{\"kind\":\"health\",\"step\":3,\"layers\":[{\"name\":\"fc\",\"type\":\"Linear\","
      "\"weight_norm\":1,\"grad_norm\":0.1,\"update_ratio\":0.001}]}\n";
  const std::string torn = "{\"kind\":\"health\",\"step\":4,\"lay";
  write_file(dir + "/metrics.jsonl", record + torn);
  auto health = run_convoy("health " + dir + " --no-plots");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("\nfc "), std::string::npos) << health.output;
  EXPECT_NE(health.standard_error.find("convoy health: warning: " + dir +
                                       "/metrics.jsonl:2: skipping the last line, cut short"),
            std::string::npos)
      << health.standard_error;
  write_file(dir + "/metrics.jsonl", record + torn + "\n" + record);
  auto middle = run_convoy("health " + dir + " --no-plots");
  EXPECT_EQ(middle.exit_code, 1) << middle.output;
  EXPECT_EQ(middle.standard_error.rfind("convoy: " + dir + "/metrics.jsonl:2: not a JSON object", 0),
            0u)
      << middle.standard_error;
}

// A run that resumed from the checkpoint of step 2 redid step 3, which its predecessor had
// recorded before it died: the table counts the redone step once, from the run that counts.
TEST(HealthCommandTest, AResumedRunsRecordsReplaceThoseOfTheStepsItRedid) {
  const std::string dir = fresh_directory("health-resumed");
  auto record = [](int step) {
    return "{\"kind\":\"health\",\"step\":" + std::to_string(step) +
           ",\"layers\":[{\"name\":\"fc\",\"type\":\"Linear\",\"weight_norm\":1,"
           "\"grad_norm\":0.1,\"update_ratio\":0.001}]}\n";
  };
  write_file(dir + "/metrics.jsonl", "{\"kind\":\"start\",\"step\":0}\n" + record(1) + record(2) +
                                         record(3) + "{\"kind\":\"start\",\"step\":2}\n" +
                                         record(3) + record(4));
  auto health = run_convoy("health " + dir + " --no-plots");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find(": 4 record(s), steps 1..4"), std::string::npos) << health.output;
  write_file(dir + "/metrics.jsonl", record(1) + "{\"kind\":\"start\",\"step\":\"2\"}\n");
  auto bad = run_convoy("health " + dir + " --no-plots");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find(dir + "/metrics.jsonl:2: a start record needs an integer \"step\""),
            std::string::npos)
      << bad.output;
}

}  // namespace
}  // namespace convoy::testing
