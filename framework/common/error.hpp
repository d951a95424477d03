#pragma once
// Typed exceptions thrown inside convoy and caught once by the launcher, which prints one line
// and exits non-zero (aborting every MPI rank).

#include <stdexcept>
#include <string>

namespace convoy {

// Base of every error convoy raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A tensor or layer got a shape or an option it cannot work with.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A file is missing, unreadable, truncated or not in the expected format.
class FileError : public Error {
 public:
  using Error::Error;
};

// A command-line option, recipe field or configuration value is invalid.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A collective failed, ranks disagree, or a rank reported a failure.
class DistributedError : public Error {
 public:
  using Error::Error;
};

// Training cannot go on: a non-finite loss or gradient, a hang.
class TrainingError : public Error {
 public:
  using Error::Error;
};

// An error every rank detected together (after a collective), with the same message on all of
// them: the launcher lets rank 0 report it, so the job prints one line, not one per rank.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

}  // namespace convoy
