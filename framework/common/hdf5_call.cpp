#include "framework/common/hdf5_call.hpp"

#include "framework/common/error.hpp"

namespace convoy::hdf5 {
namespace {

// Keeps the innermost (most specific, walked first upward) description on the default error stack.
herr_t keep_innermost(unsigned position, const H5E_error2_t* error, void* data) {
  auto* reason = static_cast<std::string*>(data);
  if (position == 0 && error != nullptr && error->desc != nullptr) *reason = error->desc;
  return 0;
}

// HDF5's reasons can span lines (a write failure quotes ctime(), which ends in a newline); the
// launcher prints one line per error.
std::string on_one_line(const std::string& text) {
  std::string line;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space) {
      line += c;
    } else if (!line.empty() && line.back() != ' ') {
      line += ' ';
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

int64_t check(int64_t status, const Place& place, const char* call) {
  if (status >= 0) return status;
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  throw FileError("HDF5 " + std::string(call) + " on '" + place.object + "' in '" + place.file +
                  "' failed" + (reason.empty() ? "" : ": " + on_one_line(reason)));
}

Handle string_type(const Place& place) {
  Handle type = checked([] { return H5Tcopy(H5T_C_S1); }, H5Tclose, place, "H5Tcopy");
  check(H5Tset_size(type.get(), H5T_VARIABLE), place, "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), place, "H5Tset_cset");
  return type;
}

static void write_scalar(hid_t object, const std::string& name, hid_t type, const void* value,
                         const Place& place) {
  Handle space = checked([] { return H5Screate(H5S_SCALAR); }, H5Sclose, place, "H5Screate");
  Handle attribute = checked(
      [&] { return H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT); },
      H5Aclose, place, "H5Acreate2");
  check(H5Awrite(attribute.get(), type, value), place, "H5Awrite");
}

void write_attribute(hid_t object, const std::string& name, const std::string& value,
                     const Place& place) {
  Handle type = string_type(place);
  const char* text = value.c_str();
  write_scalar(object, name, type.get(), &text, place);
}

void write_attribute(hid_t object, const std::string& name, int64_t value, const Place& place) {
  write_scalar(object, name, H5T_NATIVE_INT64, &value, place);
}

void write_attribute(hid_t object, const std::string& name, double value, const Place& place) {
  write_scalar(object, name, H5T_NATIVE_DOUBLE, &value, place);
}

void write_attribute(hid_t object, const std::string& name, const std::vector<int64_t>& values,
                     const Place& place) {
  const hsize_t count = values.size();
  Handle space = checked([&] { return H5Screate_simple(1, &count, nullptr); }, H5Sclose, place,
                         "H5Screate_simple");
  Handle attribute = checked(
      [&] {
        return H5Acreate2(object, name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT,
                          H5P_DEFAULT);
      },
      H5Aclose, place, "H5Acreate2");
  check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, values.data()), place, "H5Awrite");
}

bool has_attribute(hid_t object, const std::string& name, const Place& place) {
  return check(H5Aexists(object, name.c_str()), place, "H5Aexists") > 0;
}

static Handle open_attribute(hid_t object, const std::string& name, const Place& place) {
  if (check(H5Aexists(object, name.c_str()), place, "H5Aexists") == 0) {
    throw FileError("'" + place.file + "': " + place.object + " has no attribute '" + name + "'");
  }
  return checked([&] { return H5Aopen(object, name.c_str(), H5P_DEFAULT); }, H5Aclose, place,
                 "H5Aopen");
}

std::string type_name(hid_t type) {
  const size_t bits = 8 * H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";  // what h5py stores a bool as
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unknown type";
  }
}

std::string dataset_type_name(hid_t dataset, const Place& place) {
  Handle type = checked([&] { return H5Dget_type(dataset); }, H5Tclose, place, "H5Dget_type");
  return type_name(type.get());
}

static std::string attribute_place(const std::string& name, const Place& place) {
  return "attribute '" + name + "' of '" + place.object + "' in '" + place.file + "'";
}

// Throws unless the attribute is stored as `expected` (a type_name); returns its value count.
static int64_t expect_type(hid_t attribute, const std::string& name, const std::string& expected,
                           const Place& place) {
  Handle type = checked([&] { return H5Aget_type(attribute); }, H5Tclose, place, "H5Aget_type");
  const std::string stored = type_name(type.get());
  if (stored != expected) {
    throw FileError(attribute_place(name, place) + " is stored as " + stored + "; expected " +
                    expected);
  }
  Handle space = checked([&] { return H5Aget_space(attribute); }, H5Sclose, place, "H5Aget_space");
  if (check(H5Sget_simple_extent_ndims(space.get()), place, "H5Sget_simple_extent_ndims") > 1) {
    throw FileError(attribute_place(name, place) + " has more than one dimension; expected a " +
                    "list of " + expected);
  }
  return check(H5Sget_simple_extent_npoints(space.get()), place, "H5Sget_simple_extent_npoints");
}

// Throws unless the attribute holds one value stored as `expected` (a type_name).
static void expect_one_value_of_type(hid_t attribute, const std::string& name,
                                     const std::string& expected, const Place& place) {
  const int64_t count = expect_type(attribute, name, expected, place);
  if (count != 1) {
    throw FileError(attribute_place(name, place) + " holds " + std::to_string(count) +
                    " values; expected one " + expected);
  }
}

std::vector<int64_t> read_int_array_attribute(hid_t object, const std::string& name,
                                              const Place& place) {
  Handle attribute = open_attribute(object, name, place);
  std::vector<int64_t> values(
      static_cast<size_t>(expect_type(attribute.get(), name, "int64", place)));
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()), place, "H5Aread");
  return values;
}

std::string read_string_attribute(hid_t object, const std::string& name, const Place& place) {
  Handle attribute = open_attribute(object, name, place);
  expect_one_value_of_type(attribute.get(), name, "variable-length string", place);
  Handle type = string_type(place);
  char* text = nullptr;
  check(H5Aread(attribute.get(), type.get(), &text), place, "H5Aread");
  std::string value = text ? text : "";
  H5free_memory(text);
  return value;
}

int64_t read_int_attribute(hid_t object, const std::string& name, const Place& place) {
  Handle attribute = open_attribute(object, name, place);
  expect_one_value_of_type(attribute.get(), name, "int64", place);
  int64_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), place, "H5Aread");
  return value;
}

double read_double_attribute(hid_t object, const std::string& name, const Place& place) {
  Handle attribute = open_attribute(object, name, place);
  expect_one_value_of_type(attribute.get(), name, "float64", place);
  double value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), place, "H5Aread");
  return value;
}

static herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

static herr_t collect_member(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::vector<std::string> attribute_names(hid_t object, const Place& place) {
  std::vector<std::string> names;
  hsize_t index = 0;
  check(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &names), place,
        "H5Aiterate2");
  return names;
}

std::vector<std::string> member_names(hid_t group, const Place& place) {
  std::vector<std::string> names;
  hsize_t index = 0;
  check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_member, &names), place,
        "H5Literate");
  return names;
}

std::vector<hsize_t> dataset_dimensions(hid_t dataset, const Place& place) {
  Handle space = checked([&] { return H5Dget_space(dataset); }, H5Sclose, place, "H5Dget_space");
  const int rank = static_cast<int>(
      check(H5Sget_simple_extent_ndims(space.get()), place, "H5Sget_simple_extent_ndims"));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), place,
        "H5Sget_simple_extent_dims");
  return dims;
}

}  // namespace convoy::hdf5
