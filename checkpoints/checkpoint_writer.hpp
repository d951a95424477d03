#pragma once
// CheckpointWriter: stores a Checkpoint as one HDF5 file (checkpoints/FORMAT.md), atomically:
// a temporary file in the same folder, flushed and fsynced, then renamed over the target, so
// a crash or kill at any moment leaves the previous file readable.
//
// Why the file is built in memory (HDF5's core driver) and written with plain write() calls:
// 1. When HDF5 1.10 itself meets a full disk or a file-size limit, the flush fails, H5Fclose
//    then fails too and leaves the file's id registered over freed memory; the library's
//    cleanup at exit crashes the process on it. In memory no HDF5 call touches the disk.
// 2. A failed write() gives errno's reason in one line, naming the checkpoint.
// The cost: the image is held in memory twice for a moment (HDF5's copy and ours).

#include <string>

#include "checkpoints/checkpoint.hpp"

namespace convoy {

class CheckpointWriter {
 public:
  static void write(const std::string& path, const Checkpoint& checkpoint);
};

}  // namespace convoy
