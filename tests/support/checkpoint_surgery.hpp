#pragma once
// Edits of a written checkpoint file, as a user with h5py might make them, for tests of what the
// reader refuses: an attribute replaced by another value or type, a dataset stored as another
// type or removed. Each throws std::runtime_error if the edit itself fails.

#include <cstdint>
#include <string>
#include <vector>

namespace convoy::testing {

// Replaces attribute `name` of `object` ("/", "/schedule", "/data", ...) by a scalar of the
// given value, or by a one-dimensional array of `values`.
void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       int64_t value);
void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       double value);
void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       const std::string& value);
void replace_attribute(const std::string& path, const std::string& object, const std::string& name,
                       const std::vector<int64_t>& values);

// Rewrites the float32 dataset `name` ("/model/conv1.weight") with its values converted to
// `stored_type`, "int32" or "float64", as h5py's astype would.
void restore_dataset_as(const std::string& path, const std::string& name,
                        const std::string& stored_type);
void remove_dataset(const std::string& path, const std::string& name);

}  // namespace convoy::testing
