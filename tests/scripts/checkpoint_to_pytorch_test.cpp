// scripts/checkpoint_to_pytorch.py on user errors: each ends with one line naming the file and
// what is wrong, exit 1, and nothing written (they ended in Python tracebacks, and a failed
// from-torch left OUT.h5.tmp behind). The conversions themselves: checkpoints/pytorch_interop_test.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "framework/models/model_builder.hpp"
#include "support/command_runner.hpp"
#include "support/model_checkpoint.hpp"

namespace convoy::testing {
namespace {

namespace fs = std::filesystem;

const std::string kScript =
    "/usr/bin/python3 " CONVOY_SOURCE_DIR "/scripts/checkpoint_to_pytorch.py ";

bool python_has(const std::string& modules) {
  return run_command("/usr/bin/python3 -c 'import " + modules + "'").exit_code == 0;
}

// Exit 1 and exactly one line on stderr, containing every fragment.
void expect_one_line_naming(const CommandResult& result,
                            std::initializer_list<std::string> fragments) {
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(std::count(result.standard_error.begin(), result.standard_error.end(), '\n'), 1)
      << result.standard_error;
  EXPECT_EQ(result.standard_error.find("Traceback"), std::string::npos) << result.standard_error;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(result.standard_error.find(fragment), std::string::npos)
        << "\"" << fragment << "\" not in: " << result.standard_error;
  }
}

TEST(CheckpointToPytorchTest, AMissingOrNonHdf5CheckpointIsOneLineNamingIt) {
  if (!python_has("h5py, numpy")) GTEST_SKIP() << "/usr/bin/python3 has no h5py/numpy";
  const std::string dir = fresh_directory("to-pytorch-not-hdf5");
  expect_one_line_naming(run_command(kScript + "to-torch " + dir + "/missing.h5 " + dir + "/a.pt"),
                         {dir + "/missing.h5: no such file"});
  std::ofstream(dir + "/garbage.h5") << "not an HDF5 file";
  expect_one_line_naming(run_command(kScript + "to-torch " + dir + "/garbage.h5 " + dir + "/a.pt"),
                         {dir + "/garbage.h5: not an HDF5 file"});
  EXPECT_FALSE(fs::exists(dir + "/a.pt"));
}

// load_state_dict's RuntimeError listed every missing key over many lines.
TEST(CheckpointToPytorchTest, ACheckpointOfAnotherArchitectureIsOneLineNamingTheDifference) {
  if (!python_has("torch, h5py, numpy")) GTEST_SKIP() << "/usr/bin/python3 has no torch/h5py/numpy";
  const std::string dir = fresh_directory("to-pytorch-other-architecture");
  ModelConfig config;
  config.architecture = "resnet20";
  config.in_channels = 1;  // the script's default --in-channels
  write_model_checkpoint(*build_model(config), "architecture = resnet20", dir + "/resnet20.h5");
  std::ofstream(dir + "/input.f32", std::ios::binary) << std::string(4 * 28 * 28, '\0');
  auto result = run_command(kScript + "logits " + dir + "/resnet20.h5 " + dir + "/input.f32 " +
                            dir + "/logits.f32 --shape 1x1x28x28 --architecture vgg11_bn");
  expect_one_line_naming(result, {dir + "/resnet20.h5 does not fit vgg11_bn (--variant cifar "
                                        "--in-channels 1 --classes 10): 58 tensors missing (first: "
                                        "features.0.weight); 128 unexpected (first: bn1.bias)"});
  EXPECT_FALSE(fs::exists(dir + "/logits.f32"));
}

TEST(CheckpointToPytorchTest, FromTorchRefusesWhatIsNotAStateDictAndLeavesNoFile) {
  if (!python_has("torch, h5py, numpy")) GTEST_SKIP() << "/usr/bin/python3 has no torch/h5py/numpy";
  const std::string dir = fresh_directory("from-pytorch-not-a-state-dict");
  ASSERT_EQ(run_command("/usr/bin/python3 -c \"import torch; torch.save({'fc.weight': "
                        "torch.zeros(2, 3), 'note': 'text'}, '" +
                        dir + "/mixed.pt')\"")
                .exit_code,
            0);
  expect_one_line_naming(run_command(kScript + "from-torch " + dir + "/mixed.pt " + dir + "/a.h5"),
                         {dir + "/mixed.pt: entry 'note' is a str, expected a tensor"});
  expect_one_line_naming(
      run_command(kScript + "from-torch " + dir + "/mixed.pt " + dir + "/no/such/dir/a.h5"),
      {dir + "/no/such/dir/a.h5: the directory " + dir + "/no/such/dir does not exist"});
  EXPECT_FALSE(fs::exists(dir + "/a.h5"));
  EXPECT_FALSE(fs::exists(dir + "/a.h5.tmp"));
}

}  // namespace
}  // namespace convoy::testing
