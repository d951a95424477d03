#include "checkpoints/checkpoint_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

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

// Bytes the core driver allocates at a time: room for every tensor and the metadata, so the
// image usually grows once.
size_t image_growth_bytes(const Checkpoint& c) {
  size_t bytes = size_t{1} << 20;
  for (const auto* arrays : {&c.model, &c.optimizer, &c.model_ema}) {
    for (const auto& array : *arrays) bytes += array.values.size() * sizeof(float);
  }
  for (const auto& array : c.rng) bytes += array.values.size() * sizeof(uint64_t);
  return bytes;
}

// The whole HDF5 file, built in memory under the name `memory_name`; `path` names it in
// messages.
std::vector<char> file_image(const std::string& path, const std::string& memory_name,
                             const Checkpoint& c) {
  const Place root{path, "/"};
  Handle access = checked([] { return H5Pcreate(H5P_FILE_ACCESS); }, H5Pclose, root, "H5Pcreate");
  check(H5Pset_fapl_core(access.get(), image_growth_bytes(c), /*backing_store=*/0), root,
        "H5Pset_fapl_core");
  Handle file = checked(
      [&] { return H5Fcreate(memory_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()); },
      H5Fclose, root, "H5Fcreate");
  const hid_t f = file.get();
  hdf5::write_attribute(f, "format", std::string(kCheckpointFormatName), root);
  hdf5::write_attribute(f, "format_version", kCheckpointFormatVersion, root);
  hdf5::write_attribute(f, "recipe", c.recipe, root);
  hdf5::write_attribute(f, "epoch", c.epoch, root);
  hdf5::write_attribute(f, "step", c.step, root);
  hdf5::write_attribute(f, "world_size", c.world_size, root);
  hdf5::write_attribute(f, "global_batch", c.global_batch, root);
  if (!c.input_shape.empty()) hdf5::write_attribute(f, "input_shape", c.input_shape, root);
  hdf5::write_attribute(f, "configuration", c.configuration, root);
  hdf5::write_attribute(f, "convoy_version", c.convoy_version, root);
  hdf5::write_attribute(f, "metrics", c.metrics_json, root);

  write_arrays(f, "model", c.model, path);
  write_arrays(f, "optimizer", c.optimizer, path);
  if (!c.model_ema.empty()) {
    write_arrays(f, "model_ema", c.model_ema, path);
    Handle ema = checked([&] { return H5Gopen2(f, "model_ema", H5P_DEFAULT); }, H5Gclose,
                         {path, "model_ema"}, "H5Gopen2");
    hdf5::write_attribute(ema.get(), "n_averaged", c.model_ema_updates,
                          {path, "model_ema attribute n_averaged"});
  }
  {
    Handle optimizer = checked([&] { return H5Gopen2(f, "optimizer", H5P_DEFAULT); }, H5Gclose,
                               {path, "optimizer"}, "H5Gopen2");
    for (const auto& [name, value] : c.optimizer_scalars) {
      hdf5::write_attribute(optimizer.get(), name, value, {path, "optimizer attribute " + name});
    }
  }
  write_scalars(f, "schedule", c.schedule, path);
  {
    const Place place{path, "data"};
    Handle data = create_group(f, "data", place);
    hdf5::write_attribute(data.get(), "sampler_seed", static_cast<int64_t>(c.data.sampler_seed),
                          place);
    hdf5::write_attribute(data.get(), "epoch", c.data.epoch, place);
    hdf5::write_attribute(data.get(), "global_position", c.data.global_position, place);
  }
  {
    Handle rng = create_group(f, "rng", {path, "rng"});
    for (const auto& array : c.rng) {
      const Place place{path, "rng/" + array.name};
      write_tensor(rng.get(), array.name,
                   {static_cast<int64_t>(std::max<size_t>(1, array.values.size()))}, H5T_STD_U64LE,
                   H5T_NATIVE_UINT64, array.values.data(), place);
    }
  }
  check(H5Fflush(f, H5F_SCOPE_GLOBAL), root, "H5Fflush");
  std::vector<char> image(
      static_cast<size_t>(check(H5Fget_file_image(f, nullptr, 0), root, "H5Fget_file_image")));
  check(H5Fget_file_image(f, image.data(), image.size()), root, "H5Fget_file_image");
  return image;
}

// Writes `image` to a new file `temporary` and fsyncs it; a failure names the checkpoint and
// errno's reason (ENOSPC, EDQUOT, EFBIG, EIO).
void write_file(const std::string& temporary, const std::vector<char>& image,
                const std::string& path) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw FileError("cannot create '" + temporary + "' to write checkpoint '" + path +
                    "': " + std::strerror(errno));
  }
  size_t written = 0;
  int error = 0;
  while (written < image.size()) {
    const ssize_t count = ::write(fd, image.data() + written, image.size() - written);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      error = errno;
      break;
    }
    written += static_cast<size_t>(count);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    throw FileError("cannot write checkpoint '" + path + "': " + std::strerror(error) + " after " +
                    std::to_string(written) + " of " + std::to_string(image.size()) +
                    " bytes; earlier checkpoints are untouched");
  }
}

void fsync_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
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
    write_file(temporary, file_image(path, temporary, checkpoint), path);
    fs::rename(temporary, target);
    fsync_directory(folder.string());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

}  // namespace convoy
