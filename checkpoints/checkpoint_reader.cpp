#include "checkpoints/checkpoint_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "framework/common/error.hpp"
#include "framework/common/hdf5_call.hpp"

namespace convoy {

namespace fs = std::filesystem;
using hdf5::check;
using hdf5::checked;
using hdf5::Handle;
using hdf5::Place;

namespace {

Handle open_file(const std::string& path) {
  hdf5::silence_error_printing();
  if (!fs::exists(path)) throw FileError("checkpoint '" + path + "' does not exist");
  if (fs::is_directory(path)) {
    throw FileError("checkpoint '" + path + "' is a directory, not a checkpoint file");
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw FileError("checkpoint '" + path + "' is not an HDF5 file (truncated or corrupt?)");
  }
  Handle file = checked([&] { return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); },
                        H5Fclose, {path, "/"}, "H5Fopen");
  const Place root{path, "/"};
  if (check(H5Aexists(file.get(), "format"), root, "H5Aexists") == 0 ||
      hdf5::read_string_attribute(file.get(), "format", root) != kCheckpointFormatName) {
    throw FileError("'" + path + "' is not a convoy checkpoint (root attribute format is not '" +
                    kCheckpointFormatName + "')");
  }
  const int64_t version = hdf5::read_int_attribute(file.get(), "format_version", root);
  if (version != kCheckpointFormatVersion) {
    throw FileError("checkpoint '" + path + "' has format_version " + std::to_string(version) +
                    "; this convoy reads version " + std::to_string(kCheckpointFormatVersion));
  }
  return file;
}

bool has_group(hid_t file, const std::string& name, const std::string& path) {
  return check(H5Lexists(file, name.c_str(), H5P_DEFAULT), {path, name}, "H5Lexists") > 0;
}

Handle open_group(hid_t file, const std::string& name, const std::string& path) {
  const Place place{path, name};
  if (!has_group(file, name, path)) {
    throw FileError("checkpoint '" + path + "' has no group /" + name);
  }
  return checked([&] { return H5Gopen2(file, name.c_str(), H5P_DEFAULT); }, H5Gclose, place,
                 "H5Gopen2");
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The step is stored in five places (FORMAT.md): the root step and epoch, /schedule, /optimizer,
// /data. A resume trusts the root step, so any disagreement means an edited or corrupt file that
// would continue from a place its weights and sample order do not belong to.
void check_step_agrees(const CheckpointAttributes& a, const std::string& path) {
  const std::string in = "checkpoint '" + path + "': ";
  const std::pair<const char*, int64_t> counts[] = {
      {"step", a.step}, {"epoch", a.epoch}, {"global_batch", a.global_batch}};
  for (const auto& [name, value] : counts) {
    if (value < 0) {
      throw FileError(in + "root attribute " + name + " is " + std::to_string(value) +
                      "; expected a count >= 0");
    }
  }
  if (const auto scheduled = a.schedule.find("step");
      scheduled != a.schedule.end() && scheduled->second != static_cast<double>(a.step)) {
    throw FileError(in + "root attribute step is " + std::to_string(a.step) +
                    " but /schedule attribute step is " + number_text(scheduled->second));
  }
  // Steps skipped for a non-finite gradient leave the optimizer behind, never ahead.
  if (const auto optimizer = a.optimizer_scalars.find("step");
      optimizer != a.optimizer_scalars.end() && !(optimizer->second <= a.step)) {
    throw FileError(in + "/optimizer attribute step is " + number_text(optimizer->second) +
                    ", more than the root attribute step " + std::to_string(a.step));
  }
  if (a.data.epoch != a.epoch) {
    throw FileError(in + "/data attribute epoch is " + std::to_string(a.data.epoch) +
                    " but root attribute epoch is " + std::to_string(a.epoch));
  }
  const auto per_epoch = a.schedule.find("steps_per_epoch");
  if (per_epoch == a.schedule.end()) return;  // a model-only file: nothing more to compare
  if (!(per_epoch->second >= 1 && per_epoch->second <= 1e15) ||
      per_epoch->second != std::floor(per_epoch->second)) {
    throw FileError(in + "/schedule attribute steps_per_epoch is " +
                    number_text(per_epoch->second) + "; expected a whole number >= 1");
  }
  const auto steps_per_epoch = static_cast<int64_t>(per_epoch->second);
  if (a.epoch != a.step / steps_per_epoch) {
    throw FileError(in + "root attribute epoch is " + std::to_string(a.epoch) + " but step " +
                    std::to_string(a.step) + " at " + std::to_string(steps_per_epoch) +
                    " steps per epoch (/schedule) is in epoch " +
                    std::to_string(a.step / steps_per_epoch));
  }
  int64_t position = 0;
  const bool overflow = __builtin_mul_overflow(a.step % steps_per_epoch, a.global_batch, &position);
  if (overflow || a.data.global_position != position) {
    throw FileError(in + "/data attribute global_position is " +
                    std::to_string(a.data.global_position) + " but step " + std::to_string(a.step) +
                    " stands at sample " + std::to_string(position) + " of its epoch (" +
                    std::to_string(a.step % steps_per_epoch) + " steps of global batch " +
                    std::to_string(a.global_batch) + ")");
  }
}

void read_attributes(hid_t file, const std::string& path, CheckpointAttributes& a) {
  const Place root{path, "/"};
  a.recipe = hdf5::read_string_attribute(file, "recipe", root);
  a.epoch = hdf5::read_int_attribute(file, "epoch", root);
  a.step = hdf5::read_int_attribute(file, "step", root);
  a.world_size = hdf5::read_int_attribute(file, "world_size", root);
  a.global_batch = hdf5::read_int_attribute(file, "global_batch", root);
  if (hdf5::has_attribute(file, "input_shape", root)) {
    a.input_shape = hdf5::read_int_array_attribute(file, "input_shape", root);
    const bool image_sides = std::all_of(a.input_shape.begin(), a.input_shape.end(),
                                         [](int64_t side) { return side >= 1; });
    if (a.input_shape.size() != 3 || !image_sides) {
      throw FileError("checkpoint '" + path + "': root attribute input_shape is " +
                      to_string(a.input_shape) + "; expected (channels, height, width), each >= 1");
    }
  }
  a.configuration = hdf5::read_string_attribute(file, "configuration", root);
  a.convoy_version = hdf5::read_string_attribute(file, "convoy_version", root);
  a.metrics_json = hdf5::read_string_attribute(file, "metrics", root);
  {
    Handle group = open_group(file, "optimizer", path);
    const Place place{path, "/optimizer"};
    for (const auto& name : hdf5::attribute_names(group.get(), place)) {
      a.optimizer_scalars[name] = hdf5::read_double_attribute(group.get(), name, place);
    }
  }
  {
    Handle group = open_group(file, "schedule", path);
    const Place place{path, "/schedule"};
    for (const auto& name : hdf5::attribute_names(group.get(), place)) {
      a.schedule[name] = hdf5::read_double_attribute(group.get(), name, place);
    }
  }
  Handle data = open_group(file, "data", path);
  const Place place{path, "/data"};
  a.data.sampler_seed =
      static_cast<uint64_t>(hdf5::read_int_attribute(data.get(), "sampler_seed", place));
  a.data.epoch = hdf5::read_int_attribute(data.get(), "epoch", place);
  a.data.global_position = hdf5::read_int_attribute(data.get(), "global_position", place);
  check_step_agrees(a, path);
}

Shape dataset_shape(hid_t dataset, const Place& place) {
  const auto dims = hdf5::dataset_dimensions(dataset, place);
  return Shape(dims.begin(), dims.end());
}

// Visits every dataset of a group, which must all be stored as `stored_type` (a type_name):
// H5Dread would convert any other numeric type silently, int32 weights truncated included.
template <typename Visit>
void for_each_dataset(hid_t file, const std::string& group_name, const std::string& path,
                      const std::string& stored_type, Visit visit) {
  Handle group = open_group(file, group_name, path);
  for (const auto& name : hdf5::member_names(group.get(), {path, group_name})) {
    const Place place{path, group_name + "/" + name};
    Handle dataset = checked([&] { return H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT); },
                             H5Dclose, place, "H5Dopen2");
    const std::string type = hdf5::dataset_type_name(dataset.get(), place);
    if (type != stored_type) {
      throw FileError("checkpoint '" + path + "': dataset /" + place.object + " is stored as " +
                      type + "; expected " + stored_type + " (checkpoints/FORMAT.md)");
    }
    visit(name, dataset.get(), dataset_shape(dataset.get(), place), place);
  }
}

std::vector<NamedArray> read_arrays(hid_t file, const std::string& group, const std::string& path) {
  std::vector<NamedArray> arrays;
  for_each_dataset(
      file, group, path, "float32",
      [&](const std::string& name, hid_t dataset, Shape shape, const Place& place) {
        NamedArray array{name, shape,
                         std::vector<float>(static_cast<size_t>(element_count(shape)))};
        // A checksum mismatch makes H5Dread fail: the error names this dataset and the file.
        check(
            H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()),
            place, "H5Dread");
        arrays.push_back(std::move(array));
      });
  return arrays;
}

std::vector<TensorInfo> read_infos(hid_t file, const std::string& group, const std::string& path,
                                   const std::string& stored_type) {
  std::vector<TensorInfo> infos;
  for_each_dataset(file, group, path, stored_type,
                   [&](const std::string& name, hid_t, Shape shape, const Place&) {
                     infos.push_back({name, shape});
                   });
  return infos;
}

}  // namespace

Checkpoint CheckpointReader::read(const std::string& path) {
  Handle file = open_file(path);
  Checkpoint checkpoint;
  read_attributes(file.get(), path, checkpoint);
  checkpoint.model = read_arrays(file.get(), "model", path);
  checkpoint.optimizer = read_arrays(file.get(), "optimizer", path);
  if (has_group(file.get(), "model_ema", path)) {
    checkpoint.model_ema = read_arrays(file.get(), "model_ema", path);
    Handle ema = open_group(file.get(), "model_ema", path);
    checkpoint.model_ema_updates =
        hdf5::read_int_attribute(ema.get(), "n_averaged", {path, "/model_ema"});
  }
  for_each_dataset(file.get(), "rng", path, "uint64",
                   [&](const std::string& name, hid_t dataset, Shape shape, const Place& place) {
                     NamedUint64Array array{
                         name, std::vector<uint64_t>(static_cast<size_t>(element_count(shape)))};
                     check(H5Dread(dataset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                   array.values.data()),
                           place, "H5Dread");
                     checkpoint.rng.push_back(std::move(array));
                   });
  return checkpoint;
}

CheckpointInfo CheckpointReader::read_info(const std::string& path) {
  Handle file = open_file(path);
  CheckpointInfo info;
  info.format_version = kCheckpointFormatVersion;
  read_attributes(file.get(), path, info);
  info.model = read_infos(file.get(), "model", path, "float32");
  info.optimizer = read_infos(file.get(), "optimizer", path, "float32");
  if (has_group(file.get(), "model_ema", path)) {
    info.model_ema = read_infos(file.get(), "model_ema", path, "float32");
  }
  info.rng = read_infos(file.get(), "rng", path, "uint64");
  return info;
}

void check_compatible(const std::vector<NamedArray>& stored_tensors, const std::string& source,
                      const std::vector<TensorInfo>& model) {
  for (const auto& expected : model) {
    auto it = std::find_if(stored_tensors.begin(), stored_tensors.end(),
                           [&](const NamedArray& a) { return a.name == expected.name; });
    if (it == stored_tensors.end()) {
      throw ConfigError(source + " has no tensor " + expected.name +
                        " that this model needs; is it another architecture?");
    }
    if (it->shape != expected.shape) {
      throw ConfigError("tensor " + expected.name + " has shape " + to_string(it->shape) + " in " +
                        source + " but " + to_string(expected.shape) + " in this model");
    }
  }
  for (const auto& stored : stored_tensors) {
    auto it = std::find_if(model.begin(), model.end(),
                           [&](const TensorInfo& t) { return t.name == stored.name; });
    if (it == model.end()) {
      throw ConfigError(source + " has a tensor " + stored.name + " that this model lacks");
    }
  }
}

void check_compatible(const Checkpoint& checkpoint, const std::vector<TensorInfo>& model) {
  check_compatible(checkpoint.model, "the checkpoint (recipe '" + checkpoint.recipe + "')", model);
}

}  // namespace convoy
