#pragma once
// Packs any fixed-size Dataset into the HDF5 layout Hdf5Dataset reads (see hdf5_dataset.hpp).

#include <cstdint>
#include <string>

#include "datasets/dataset.hpp"

namespace convoy::data {

// Writes every sample of `dataset` to `path`, chunked by `chunk_images` images (small chunks
// let a rank read only its shard; 1..64 is typical). Atomic: it writes "<path>.tmp-<pid>" and
// renames it over `path` only once the file is complete and closed, so a crash never leaves a
// half-written file under the final name. ShapeError if the dataset's image sizes vary
// (resize first) or an image does not match image_shape(); FileError naming the file on any
// HDF5 or rename failure; ConfigError for chunk_images < 1.
void convert_to_hdf5(const Dataset& dataset, const std::string& path, int64_t chunk_images = 16);

}  // namespace convoy::data
