#pragma once
// Images stored in one HDF5 file, read row by row so a rank touches only its shard.
//
// File layout (written by convert_to_hdf5, see hdf5_convert.hpp):
//   /images  uint8 (N, C, H, W), chunked by (k, C, H, W)
//   /labels  int32 (N)
//   attributes on the root group: class_names (1-D variable-length strings), source (string)

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace convoy::data {

// Opens the file once; labels (4 bytes per sample) are read whole at construction and checked,
// images are read one hyperslab row per read(). Thread-safety comes from the thread-safe HDF5
// build (Debian's libhdf5 serializes calls internally); without it a process-wide lock is used.
class Hdf5Dataset : public Dataset {
 public:
  // FileError naming the file, the HDF5 call and the object for a missing or malformed file,
  // wrong ranks or types, no samples, an image larger than the bound of image_limits.hpp, images
  // or labels never written, a label count that differs from the image count, or a label
  // outside the class names (without class_names: 65536 classes at most), naming its sample.
  explicit Hdf5Dataset(const std::string& path);
  ~Hdf5Dataset() override;

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::optional<Shape> image_shape() const override { return image_shape_; }
  Image read(int64_t index) const override;
  std::string source() const override { return "HDF5 " + path_; }
  // The "source" attribute: where the converted samples came from.
  const std::string& original_source() const { return original_source_; }

 private:
  struct Handles;
  std::string path_;
  std::unique_ptr<Handles> handles_;
  Shape image_shape_;
  std::vector<int32_t> labels_;
  std::vector<std::string> class_names_;
  std::string original_source_;
};

}  // namespace convoy::data
