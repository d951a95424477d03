#include "support/checkpoint_surgery.hpp"

#include <hdf5.h>

#include <stdexcept>

namespace convoy::testing {
namespace {

hid_t require(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error("checkpoint surgery: " + what + " failed");
  return id;
}

// Opens `path` for writing, removes the attribute if present and creates it anew with `type`
// over `space`, writing `data`.
void write_attribute(const std::string& path, const std::string& object, const std::string& name,
                     hid_t type, hid_t space, const void* data) {
  const hid_t file = require(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "H5Fopen " + path);
  const hid_t owner = require(H5Oopen(file, object.c_str(), H5P_DEFAULT), "H5Oopen " + object);
  if (H5Aexists(owner, name.c_str()) > 0) require(H5Adelete(owner, name.c_str()), "H5Adelete");
  const hid_t attribute =
      require(H5Acreate2(owner, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2");
  require(H5Awrite(attribute, type, data), "H5Awrite " + name);
  H5Aclose(attribute);
  H5Oclose(owner);
  require(H5Fclose(file), "H5Fclose");
}

void write_scalar_attribute(const std::string& path, const std::string& object,
                            const std::string& name, hid_t type, const void* data) {
  const hid_t space = H5Screate(H5S_SCALAR);
  write_attribute(path, object, name, type, space, data);
  H5Sclose(space);
}

}  // namespace

void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       int64_t value) {
  write_scalar_attribute(path, object, name, H5T_NATIVE_INT64, &value);
}

void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       double value) {
  write_scalar_attribute(path, object, name, H5T_NATIVE_DOUBLE, &value);
}

void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* text = value.c_str();
  write_scalar_attribute(path, object, name, type, &text);
  H5Tclose(type);
}

void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       const std::vector<int64_t>& values) {
  const hsize_t count = values.size();
  const hid_t space = H5Screate_simple(1, &count, nullptr);
  write_attribute(path, object, name, H5T_NATIVE_INT64, space, values.data());
  H5Sclose(space);
}

void restore_dataset_as(const std::string& path, const std::string& name,
                        const std::string& stored_type) {
  const hid_t file_type = stored_type == "int32" ? H5T_STD_I32LE : H5T_IEEE_F64LE;
  const hid_t file = require(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "H5Fopen " + path);
  const hid_t dataset = require(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "H5Dopen2 " + name);
  const hid_t space = H5Dget_space(dataset);
  std::vector<float> values(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  require(H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "H5Dread " + name);
  H5Dclose(dataset);
  require(H5Ldelete(file, name.c_str(), H5P_DEFAULT), "H5Ldelete " + name);
  const hid_t replacement = require(
      H5Dcreate2(file, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      "H5Dcreate2 " + name);
  require(H5Dwrite(replacement, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "H5Dwrite " + name);
  H5Dclose(replacement);
  H5Sclose(space);
  require(H5Fclose(file), "H5Fclose");
}

void remove_dataset(const std::string& path, const std::string& name) {
  const hid_t file = require(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "H5Fopen " + path);
  require(H5Ldelete(file, name.c_str(), H5P_DEFAULT), "H5Ldelete " + name);
  require(H5Fclose(file), "H5Fclose");
}

}  // namespace convoy::testing
