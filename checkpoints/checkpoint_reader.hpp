#pragma once
// CheckpointReader: reads and validates a checkpoint file (format name and version, every
// group and attribute, every dataset's Fletcher32 checksum). Any problem is a FileError that
// names the file and the object.

#include <string>
#include <vector>

#include "checkpoints/checkpoint.hpp"

namespace convoy {

class CheckpointReader {
 public:
  static Checkpoint read(const std::string& path);
  // Attributes and tensor names/shapes only, without reading values (convoy inspect).
  static CheckpointInfo read_info(const std::string& path);
};

// Throws ConfigError naming the first tensor that is missing from the checkpoint, extra in it,
// or of another shape, when a model with `model` tensors is to be loaded from `checkpoint`.
void check_compatible(const Checkpoint& checkpoint, const std::vector<TensorInfo>& model);
// The same for any stored list of tensors; `source` starts the message ("the checkpoint's
// /model_ema").
void check_compatible(const std::vector<NamedArray>& stored_tensors, const std::string& source,
                      const std::vector<TensorInfo>& model);

}  // namespace convoy
