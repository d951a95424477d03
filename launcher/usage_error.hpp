#pragma once
// UsageError: a bad command line (unknown option, bad value); exit code 2.

#include "framework/common/error.hpp"

namespace convoy::launcher {

class UsageError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

}  // namespace convoy::launcher
