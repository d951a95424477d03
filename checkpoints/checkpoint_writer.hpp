#pragma once
// CheckpointWriter: stores a Checkpoint as one HDF5 file (checkpoints/FORMAT.md), atomically:
// a temporary file in the same folder, flushed and fsynced, then renamed over the target, so
// a crash or kill at any moment leaves the previous file readable.

#include <string>

#include "checkpoints/checkpoint.hpp"

namespace convoy {

class CheckpointWriter {
 public:
  static void write(const std::string& path, const Checkpoint& checkpoint);
};

}  // namespace convoy
