#include "datasets/hdf5_call.hpp"

#include "framework/common/error.hpp"

namespace convoy::data::hdf5 {
namespace {

// Keeps the innermost (most specific, walked first upward) description on the default error stack.
herr_t keep_innermost(unsigned position, const H5E_error2_t* error, void* data) {
  auto* reason = static_cast<std::string*>(data);
  if (position == 0 && error != nullptr && error->desc != nullptr) *reason = error->desc;
  return 0;
}

}  // namespace

void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

int64_t check(int64_t status, const Place& place, const char* call) {
  if (status >= 0) return status;
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  throw FileError("HDF5 " + std::string(call) + " on '" + place.object + "' in '" + place.file +
                  "' failed" + (reason.empty() ? "" : ": " + reason));
}

}  // namespace convoy::data::hdf5
