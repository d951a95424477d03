#include "checkpoints/checkpoint_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

// A chunked dataset with HDF5's Fletcher32 checksum filter: corruption is detected on read.
void write_tensor(hid_t group, const std::string& name, const Shape& shape, hid_t file_type,
                  hid_t memory_type, const void* data, const Place& place) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  if (dims.empty()) dims.push_back(1);
  Handle space =
      checked([&] { return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr); },
              H5Sclose, place, "H5Screate_simple");
  Handle properties =
      checked([] { return H5Pcreate(H5P_DATASET_CREATE); }, H5Pclose, place, "H5Pcreate");
  // One chunk per tensor up to ~4 MB; large tensors are split along the first dimension.
  std::vector<hsize_t> chunk = dims;
  hsize_t row = 1;
  for (size_t i = 1; i < dims.size(); ++i) row *= dims[i];
  chunk[0] =
      std::max<hsize_t>(1, std::min<hsize_t>(dims[0], (1u << 20) / std::max<hsize_t>(1, row)));
  check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()), place,
        "H5Pset_chunk");
  check(H5Pset_fletcher32(properties.get()), place, "H5Pset_fletcher32");
  Handle dataset = checked(
      [&] {
        return H5Dcreate2(group, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                          properties.get(), H5P_DEFAULT);
      },
      H5Dclose, place, "H5Dcreate2");
  check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), place,
        "H5Dwrite");
}

Handle create_group(hid_t file, const char* name, const Place& place) {
  return checked([&] { return H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT); },
                 H5Gclose, place, "H5Gcreate2");
}

void write_arrays(hid_t file, const char* group_name, const std::vector<NamedArray>& arrays,
                  const std::string& path) {
  Handle group = create_group(file, group_name, {path, group_name});
  for (const auto& array : arrays) {
    const Place place{path, std::string(group_name) + "/" + array.name};
    if (static_cast<int64_t>(array.values.size()) != element_count(array.shape)) {
      throw ShapeError("checkpoint tensor " + place.object + " has " +
                       std::to_string(array.values.size()) + " values for shape " +
                       to_string(array.shape));
    }
    write_tensor(group.get(), array.name, array.shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                 array.values.data(), place);
  }
}

void write_scalars(hid_t file, const char* group_name, const std::map<std::string, double>& values,
                   const std::string& path) {
  Handle group = create_group(file, group_name, {path, group_name});
  for (const auto& [name, value] : values) {
    hdf5::write_attribute(group.get(), name, value,
                          {path, std::string(group_name) + " attribute " + name});
  }
}

void write_contents(const std::string& temporary, const Checkpoint& c) {
  const Place root{temporary, "/"};
  Handle file =
      checked([&] { return H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); },
              H5Fclose, root, "H5Fcreate");
  const hid_t f = file.get();
  hdf5::write_attribute(f, "format", std::string(kCheckpointFormatName), root);
  hdf5::write_attribute(f, "format_version", kCheckpointFormatVersion, root);
  hdf5::write_attribute(f, "recipe", c.recipe, root);
  hdf5::write_attribute(f, "epoch", c.epoch, root);
  hdf5::write_attribute(f, "step", c.step, root);
  hdf5::write_attribute(f, "world_size", c.world_size, root);
  hdf5::write_attribute(f, "global_batch", c.global_batch, root);
  hdf5::write_attribute(f, "configuration", c.configuration, root);
  hdf5::write_attribute(f, "convoy_version", c.convoy_version, root);
  hdf5::write_attribute(f, "metrics", c.metrics_json, root);

  write_arrays(f, "model", c.model, temporary);
  write_arrays(f, "optimizer", c.optimizer, temporary);
  if (!c.model_ema.empty()) {
    write_arrays(f, "model_ema", c.model_ema, temporary);
    Handle ema = checked([&] { return H5Gopen2(f, "model_ema", H5P_DEFAULT); }, H5Gclose,
                         {temporary, "model_ema"}, "H5Gopen2");
    hdf5::write_attribute(ema.get(), "n_averaged", c.model_ema_updates,
                          {temporary, "model_ema attribute n_averaged"});
  }
  {
    Handle optimizer = checked([&] { return H5Gopen2(f, "optimizer", H5P_DEFAULT); }, H5Gclose,
                               {temporary, "optimizer"}, "H5Gopen2");
    for (const auto& [name, value] : c.optimizer_scalars) {
      hdf5::write_attribute(optimizer.get(), name, value,
                            {temporary, "optimizer attribute " + name});
    }
  }
  write_scalars(f, "schedule", c.schedule, temporary);
  {
    const Place place{temporary, "data"};
    Handle data = create_group(f, "data", place);
    hdf5::write_attribute(data.get(), "sampler_seed", static_cast<int64_t>(c.data.sampler_seed),
                          place);
    hdf5::write_attribute(data.get(), "epoch", c.data.epoch, place);
    hdf5::write_attribute(data.get(), "global_position", c.data.global_position, place);
  }
  {
    Handle rng = create_group(f, "rng", {temporary, "rng"});
    for (const auto& array : c.rng) {
      const Place place{temporary, "rng/" + array.name};
      write_tensor(rng.get(), array.name,
                   {static_cast<int64_t>(std::max<size_t>(1, array.values.size()))}, H5T_STD_U64LE,
                   H5T_NATIVE_UINT64, array.values.data(), place);
    }
  }
  check(H5Fflush(f, H5F_SCOPE_GLOBAL), root, "H5Fflush");
  file.close(root, "H5Fclose");
}

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw FileError("cannot open '" + path + "' to flush it to disk");
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) throw FileError("fsync of '" + path + "' failed");
}

}  // namespace

void CheckpointWriter::write(const std::string& path, const Checkpoint& checkpoint) {
  hdf5::silence_error_printing();
  const fs::path target(path);
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  try {
    write_contents(temporary, checkpoint);
    fsync_path(temporary, false);
    fs::rename(temporary, target);
    fsync_path(folder.string(), true);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

}  // namespace convoy
