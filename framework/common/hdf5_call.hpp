#pragma once
// Checked HDF5 calls and owning handles, for the readers and writers of HDF5 files (datasets,
// checkpoints). Include only from .cpp files: it brings in hdf5.h.
//
// Why: an HDF5 call reports failure by a negative return value and by printing its error stack
// to stderr. We silence the printing and turn every failure into one FileError that names the
// file, the call, the object and HDF5's innermost reason, so a user sees one precise line.

#include <hdf5.h>

#include <string>
#include <utility>
#include <vector>

namespace convoy::hdf5 {

// Where a call happens, for messages: the file path and the object inside it.
struct Place {
  std::string file;
  std::string object;
};

// Throws FileError "HDF5 <call> on '<object>' in '<file>' failed: <reason>" when status < 0;
// returns status otherwise (an hid_t or herr_t). The reason is kept on one line.
int64_t check(int64_t status, const Place& place, const char* call);

// Turns off HDF5's automatic error printing for this thread (called before each batch of calls;
// cheap).
void silence_error_printing();

// Owns one hid_t and closes it with the matching H5*close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept { *this = std::move(other); }
  Handle& operator=(Handle&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  }
  hid_t get() const { return id_; }
  // Closes now and reports a failure (closing a file flushes it, so it can fail).
  void close(const Place& place, const char* call) {
    const hid_t id = std::exchange(id_, -1);
    if (id >= 0 && closer_ != nullptr) check(closer_(id), place, call);
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Calls `open` (returning an hid_t), checks it and wraps it with `closer`.
template <typename Open>
Handle checked(Open&& open, Handle::Closer closer, const Place& place, const char* call) {
  return Handle(static_cast<hid_t>(check(open(), place, call)), closer);
}

// A variable-length UTF-8 string type (what h5py reads as str).
Handle string_type(const Place& place);

// A stored element type as a user names it: "float32", "int64", "uint8", "variable-length
// string", "fixed-length string", "compound", ...
std::string type_name(hid_t type);
std::string dataset_type_name(hid_t dataset, const Place& place);

// Scalar attributes on an open object (file, group or dataset). A read throws FileError naming
// the attribute unless it holds exactly one value of the type written here (int64, float64, a
// variable-length string): HDF5 would otherwise convert silently, a float to an integer
// included, or write past the one value.
void write_attribute(hid_t object, const std::string& name, const std::string& value,
                     const Place& place);
void write_attribute(hid_t object, const std::string& name, int64_t value, const Place& place);
void write_attribute(hid_t object, const std::string& name, double value, const Place& place);
// A one-dimensional int64 attribute (h5py reads it as a numpy array), e.g. a shape.
void write_attribute(hid_t object, const std::string& name, const std::vector<int64_t>& values,
                     const Place& place);
bool has_attribute(hid_t object, const std::string& name, const Place& place);
std::string read_string_attribute(hid_t object, const std::string& name, const Place& place);
// FileError naming the attribute unless it is stored as int64 with at most one dimension.
std::vector<int64_t> read_int_array_attribute(hid_t object, const std::string& name,
                                              const Place& place);
int64_t read_int_attribute(hid_t object, const std::string& name, const Place& place);
double read_double_attribute(hid_t object, const std::string& name, const Place& place);
// Names of an object's attributes, or of a group's members, in name order.
std::vector<std::string> attribute_names(hid_t object, const Place& place);
std::vector<std::string> member_names(hid_t group, const Place& place);
// A dataset's extent, one entry per dimension.
std::vector<hsize_t> dataset_dimensions(hid_t dataset, const Place& place);

}  // namespace convoy::hdf5
