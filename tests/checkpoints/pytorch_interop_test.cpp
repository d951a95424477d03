// A convoy checkpoint loaded into the PyTorch model of the same architecture (built with
// torchvision's module names by scripts/bench/pytorch_models.py) gives the same logits as
// convoy on the same inputs: names, layouts and BatchNorm buffers all carry over.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "checkpoints/checkpoint_reader.hpp"
#include "checkpoints/checkpoint_writer.hpp"
#include "framework/models/model_builder.hpp"
#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

bool python_has_torch() {
  return run_command("/usr/bin/python3 -c 'import torch, h5py, numpy'").exit_code == 0;
}

void write_floats(const std::string& path, const std::vector<float>& values) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(values.data()),
             static_cast<std::streamsize>(values.size() * sizeof(float)));
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  std::vector<float> values(static_cast<size_t>(file.tellg()) / sizeof(float));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
  return values;
}

void expect_pytorch_logits_match(const std::string& architecture, int64_t channels, int64_t size) {
  if (!python_has_torch())
    GTEST_SKIP() << "/usr/bin/python3 has no torch/h5py/numpy (python3-torch)";
  const std::string dir = fresh_directory("interop-" + architecture);
  ModelConfig config;
  config.architecture = architecture;
  config.in_channels = channels;
  config.seed = 3;
  auto net = build_model(config);
  // Non-trivial BatchNorm statistics, so the test also proves the buffers carry over.
  std::mt19937_64 generator(9);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  Checkpoint checkpoint;
  checkpoint.recipe = "interop-test";
  for (const auto& [name, parameter] : net->parameters()) {
    checkpoint.model.push_back({name, parameter->value.shape(), parameter->value.to_plain()});
  }
  for (const auto& [name, buffer] : net->buffers()) {
    float* values = buffer->value.plain_data();
    if (!name.ends_with("num_batches_tracked")) {
      for (int64_t i = 0; i < buffer->value.element_count(); ++i)
        values[i] = uniform(generator) - 0.4f;
    }
    checkpoint.model.push_back({name, buffer->value.shape(), buffer->value.to_plain()});
  }
  CheckpointWriter::write(dir + "/model.h5", checkpoint);

  const Shape input_shape{3, channels, size, size};
  std::vector<float> input(static_cast<size_t>(element_count(input_shape)));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& value : input) value = normal(generator);
  write_floats(dir + "/input.f32", input);
  const auto logits = net->forward(Tensor::from_plain(input_shape, input), Mode::eval).to_plain();

  auto result = run_command(
      "/usr/bin/python3 " CONVOY_SOURCE_DIR "/scripts/checkpoint_to_pytorch.py logits " + dir +
      "/model.h5 " + dir + "/input.f32 " + dir + "/logits.f32 --architecture " + architecture +
      " --in-channels " + std::to_string(channels) + " --shape 3x" + std::to_string(channels) +
      "x" + std::to_string(size) + "x" + std::to_string(size));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto expected = read_floats(dir + "/logits.f32");
  ASSERT_EQ(expected.size(), logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    EXPECT_NEAR(logits[i], expected[i], 1e-4 * std::max(1.0f, std::abs(expected[i])))
        << "logit " << i;
  }
}

TEST(PytorchInteropTest, Resnet20CheckpointGivesPytorchsLogits) {
  expect_pytorch_logits_match("resnet20", 1, 28);
}

TEST(PytorchInteropTest, Vgg11BnCheckpointGivesPytorchsLogits) {
  expect_pytorch_logits_match("vgg11_bn", 1, 32);
}

TEST(PytorchInteropTest, ConversionToAStateDictAndBackKeepsEveryBit) {
  if (!python_has_torch())
    GTEST_SKIP() << "/usr/bin/python3 has no torch/h5py/numpy (python3-torch)";
  const std::string dir = fresh_directory("interop-round-trip");
  ASSERT_EQ(run_convoy("train --recipe fashion-resnet20 --train-samples 256 --test-samples 64 "
                       "--batch-size 32 --max-steps 3 --threads 1 --run-dir " +
                       dir)
                .exit_code,
            0);
  const std::string script =
      "/usr/bin/python3 " CONVOY_SOURCE_DIR "/scripts/checkpoint_to_pytorch.py ";
  ASSERT_EQ(run_command(script + "to-torch " + dir + "/latest " + dir + "/state.pt").exit_code, 0);
  auto back = run_command(script + "from-torch " + dir + "/state.pt " + dir +
                          "/back.h5 --recipe fashion-resnet20");
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_EQ(model_hash(dir + "/back.h5"), model_hash(dir + "/latest"));
  auto eval = run_convoy("eval --checkpoint " + dir + "/back.h5 --test-samples 64 --json");
  EXPECT_EQ(eval.exit_code, 0) << eval.output;
  // The imported file starts a fine-tuning run (it has no schedule or data state to resume).
  auto tuned = run_convoy(
      "train --recipe fashion-resnet20 --train-samples 64 --test-samples 64 "
      "--batch-size 32 --max-steps 1 --threads 1 --run-dir " +
      dir + "/tuned --init-from " + dir + "/back.h5 --init-skip fc");
  EXPECT_EQ(tuned.exit_code, 0) << tuned.output;
  EXPECT_NE(tuned.output.find("initialized from " + dir +
                              "/back.h5 (recipe fashion-resnet20, "
                              "step 0): 126 tensors; 2 freshly initialized under --init-skip fc"),
            std::string::npos)
      << tuned.output;
}

// to-torch --weights ema converts /model_ema; imported back, it is the model of a checkpoint
// whose every tensor equals the average's bits.
TEST(PytorchInteropTest, TheModelEmaConvertsToAStateDictBitForBit) {
  if (!python_has_torch())
    GTEST_SKIP() << "/usr/bin/python3 has no torch/h5py/numpy (python3-torch)";
  const std::string dir = fresh_directory("interop-ema");
  ASSERT_EQ(run_convoy("train --recipe fashion-resnet20 --train-samples 256 --test-samples 64 "
                       "--batch-size 32 --max-steps 3 --threads 1 --warmup-epochs 0 "
                       "--model-ema true --model-ema-steps 1 --run-dir " +
                       dir)
                .exit_code,
            0);
  const std::string script =
      "/usr/bin/python3 " CONVOY_SOURCE_DIR "/scripts/checkpoint_to_pytorch.py ";
  auto to_torch =
      run_command(script + "to-torch " + dir + "/latest " + dir + "/ema.pt --weights ema");
  ASSERT_EQ(to_torch.exit_code, 0) << to_torch.output;
  ASSERT_EQ(run_command(script + "from-torch " + dir + "/ema.pt " + dir +
                        "/ema.h5 --recipe fashion-resnet20")
                .exit_code,
            0);
  const Checkpoint trained = CheckpointReader::read(dir + "/latest");
  const Checkpoint imported = CheckpointReader::read(dir + "/ema.h5");
  ASSERT_EQ(imported.model.size(), trained.model_ema.size());
  bool differs_from_weights = false;
  for (size_t i = 0; i < trained.model_ema.size(); ++i) {
    const auto& average = trained.model_ema[i];
    auto it = std::find_if(imported.model.begin(), imported.model.end(),
                           [&](const NamedArray& a) { return a.name == average.name; });
    ASSERT_NE(it, imported.model.end()) << average.name;
    EXPECT_EQ(it->values, average.values) << average.name;
    differs_from_weights |= average.values != trained.model[i].values;
  }
  EXPECT_TRUE(differs_from_weights) << "the average equals the weights: nothing was tested";
}

}  // namespace
}  // namespace convoy::testing
