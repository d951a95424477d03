// CheckpointReader on files a user edited or damaged: every refusal names the file, the dataset
// or attribute and what FORMAT.md expects, instead of converting silently or crashing.

#include "checkpoints/checkpoint_reader.hpp"

#include <gtest/gtest.h>

#include "checkpoints/checkpoint_writer.hpp"
#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"
#include "support/checkpoint_surgery.hpp"

namespace convoy::testing {
namespace {

// Step 6 at 4 steps per epoch: epoch 1, two batches of 8 into it.
Checkpoint consistent_checkpoint() {
  Checkpoint c;
  c.recipe = "reader-test";
  c.step = 6;
  c.epoch = 1;
  c.global_batch = 8;
  c.optimizer_scalars = {{"step", 6.0}, {"kind_is_adamw", 0.0}};
  c.schedule = {{"step", 6.0}, {"learning_rate", 0.05}, {"steps_per_epoch", 4.0}};
  c.data = {.sampler_seed = 3, .epoch = 1, .global_position = 16};
  // Fractions: an integer type would lose them.
  c.model = {{"conv1.weight", {2, 1, 1, 2}, {0.25f, -0.5f, 1.75f, 0.125f}}};
  c.optimizer = {{"conv1.weight.momentum_buffer", {2, 1, 1, 2}, {0.5f, 0.5f, -0.25f, 0.0f}}};
  c.rng = {{"dropout", {1, 2}}};
  return c;
}

std::string write_consistent(const TemporaryDirectory& directory) {
  const std::string path = directory.file("checkpoint.h5");
  CheckpointWriter::write(path, consistent_checkpoint());
  return path;
}

// Both readers refuse the file with a FileError mentioning every fragment.
void expect_refused(const std::string& path, std::initializer_list<std::string> fragments) {
  expect_error_mentioning<FileError>([&] { CheckpointReader::read(path); }, fragments);
  expect_error_mentioning<FileError>([&] { CheckpointReader::read_info(path); }, fragments);
}

TEST(CheckpointReaderTest, AConsistentFileReadsBackAsWritten) {
  TemporaryDirectory directory;
  const Checkpoint read = CheckpointReader::read(write_consistent(directory));
  const Checkpoint written = consistent_checkpoint();
  EXPECT_EQ(read.step, 6);
  EXPECT_EQ(read.data.global_position, 16);
  EXPECT_EQ(read.schedule, written.schedule);
  ASSERT_EQ(read.model.size(), 1u);
  EXPECT_EQ(read.model[0].values, written.model[0].values);
  ASSERT_EQ(read.rng.size(), 1u);
  EXPECT_EQ(read.rng[0].values, written.rng[0].values);
  // Steps skipped for a non-finite gradient leave the optimizer's count behind the run's.
  const std::string skipped = directory.file("skipped.h5");
  Checkpoint behind = consistent_checkpoint();
  behind.optimizer_scalars["step"] = 5;
  CheckpointWriter::write(skipped, behind);
  EXPECT_EQ(CheckpointReader::read(skipped).optimizer_scalars.at("step"), 5.0);
}

TEST(CheckpointReaderTest, ATensorNotStoredAsFloat32IsRefusedNamingTheDatasetAndBothTypes) {
  for (const std::string stored_type : {"int32", "float64"}) {
    for (const std::string dataset :
         {"/model/conv1.weight", "/optimizer/conv1.weight.momentum_buffer"}) {
      TemporaryDirectory directory;
      const std::string path = write_consistent(directory);
      restore_dataset_as(path, dataset, stored_type);
      SCOPED_TRACE(dataset + " as " + stored_type);
      expect_refused(path, {"checkpoint '" + path + "'", "dataset " + dataset,
                            "stored as " + stored_type + "; expected float32"});
    }
  }
}

TEST(CheckpointReaderTest, AnAttributeOfAnotherTypeIsRefusedNamingItAndTheExpectedType) {
  TemporaryDirectory directory;
  const std::string path = write_consistent(directory);
  const std::string in = " in '" + path + "'";
  replace_attribute(path, "/", "step", std::string("6"));
  expect_refused(path, {"attribute 'step' of '/'" + in,
                        "is stored as variable-length string; expected int64"});
  replace_attribute(path, "/", "step", 6.0);
  expect_refused(path, {"attribute 'step' of '/'" + in, "is stored as float64; expected int64"});
  replace_attribute(path, "/", "step", std::vector<int64_t>{6, 6});
  expect_refused(path, {"attribute 'step' of '/'" + in, "holds 2 values; expected one int64"});
  replace_attribute(path, "/", "step", int64_t{6});
  ASSERT_EQ(CheckpointReader::read(path).step, 6);

  replace_attribute(path, "/schedule", "learning_rate", int64_t{1});
  expect_refused(path, {"attribute 'learning_rate' of '/schedule'" + in,
                        "is stored as int64; expected float64"});
  replace_attribute(path, "/schedule", "learning_rate", 0.05);
  replace_attribute(path, "/", "recipe", int64_t{1});
  expect_refused(path, {"attribute 'recipe' of '/'" + in,
                        "is stored as int64; expected variable-length string"});
}

// input_shape is optional (checkpoints from PyTorch and older convoy lack it) but, when there,
// must be a (C, H, W) of int64 sides.
TEST(CheckpointReaderTest, TheInputShapeReadsBackIsOptionalAndMustBeThreeSides) {
  TemporaryDirectory directory;
  EXPECT_TRUE(CheckpointReader::read(write_consistent(directory)).input_shape.empty());
  const std::string path = directory.file("with-input.h5");
  Checkpoint written = consistent_checkpoint();
  written.input_shape = {1, 28, 28};
  CheckpointWriter::write(path, written);
  EXPECT_EQ(CheckpointReader::read(path).input_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(CheckpointReader::read_info(path).input_shape, (Shape{1, 28, 28}));
  const std::string in = "checkpoint '" + path + "': root attribute input_shape is ";
  replace_attribute(path, "/", "input_shape", std::vector<int64_t>{28, 28});
  expect_refused(path, {in + "(28, 28); expected (channels, height, width), each >= 1"});
  replace_attribute(path, "/", "input_shape", std::vector<int64_t>{1, 0, 28});
  expect_refused(path, {in + "(1, 0, 28); expected (channels, height, width), each >= 1"});
  replace_attribute(path, "/", "input_shape", 28.0);
  expect_refused(path, {"attribute 'input_shape' of '/' in '" + path + "'",
                        "is stored as float64; expected int64"});
}

TEST(CheckpointReaderTest, AStepTheOtherFieldsContradictIsRefusedNamingTheFields) {
  struct Edit {
    std::string object, name;
    double value;  // written as int64 where FORMAT.md says int64
    std::string message;
  };
  const std::vector<Edit> edits = {
      {"/", "step", 1e15,
       "root attribute step is 1000000000000000 but /schedule attribute step is 6"},
      {"/", "step", -3, "root attribute step is -3; expected a count >= 0"},
      {"/", "epoch", 0, "/data attribute epoch is 1 but root attribute epoch is 0"},
      {"/data", "epoch", 2, "/data attribute epoch is 2 but root attribute epoch is 1"},
      {"/data", "global_position", 0,
       "/data attribute global_position is 0 but step 6 stands at sample 16 of its epoch"},
      {"/optimizer", "step", 7,
       "/optimizer attribute step is 7, more than the root attribute "
       "step 6"},
      {"/schedule", "steps_per_epoch", 0,
       "/schedule attribute steps_per_epoch is 0; expected a whole number >= 1"},
      {"/schedule", "steps_per_epoch", 3,
       "root attribute epoch is 1 but step 6 at 3 steps per epoch (/schedule) is in epoch 2"},
  };
  for (const auto& edit : edits) {
    TemporaryDirectory directory;
    const std::string path = write_consistent(directory);
    const bool is_int64 = edit.object == "/" || edit.object == "/data";
    if (is_int64) {
      replace_attribute(path, edit.object, edit.name, static_cast<int64_t>(edit.value));
    } else {
      replace_attribute(path, edit.object, edit.name, edit.value);
    }
    SCOPED_TRACE(edit.object + " " + edit.name);
    expect_refused(path, {"checkpoint '" + path + "': " + edit.message});
  }
}

TEST(CheckpointReaderTest, ADirectoryIsRefusedAsNotACheckpointFile) {
  TemporaryDirectory directory;
  expect_refused(directory.path().string(), {"checkpoint '" + directory.path().string() +
                                             "' is a directory, not a checkpoint file"});
}

}  // namespace
}  // namespace convoy::testing
