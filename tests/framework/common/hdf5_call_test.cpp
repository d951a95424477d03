#include "framework/common/hdf5_call.hpp"

#include <gtest/gtest.h>

#include "framework/common/error.hpp"

namespace convoy::hdf5 {
namespace {

// A write failure's reason quotes ctime(), which ends in a newline; the launcher prints one
// line per error.
TEST(Hdf5CallTest, AFailureWhoseReasonSpansLinesIsReportedOnOneLine) {
  H5Eclear2(H5E_DEFAULT);  // check() reports the innermost error: this one alone
  H5Epush2(H5E_DEFAULT, __FILE__, "test", __LINE__, H5E_ERR_CLS, H5E_FILE, H5E_WRITEERROR,
           "file write failed: time = Fri Dec  6 14:22:00 2024\n, errno = 28, error message = "
           "'No space left on device'\n");
  try {
    check(-1, {"run/checkpoint.h5", "/"}, "H5Fflush");
    ADD_FAILURE() << "expected a FileError";
  } catch (const FileError& error) {
    EXPECT_EQ(std::string(error.what()),
              "HDF5 H5Fflush on '/' in 'run/checkpoint.h5' failed: file write failed: time = Fri "
              "Dec 6 14:22:00 2024 , errno = 28, error message = 'No space left on device'");
  }
}

}  // namespace
}  // namespace convoy::hdf5
