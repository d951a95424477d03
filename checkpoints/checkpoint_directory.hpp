#pragma once
// CheckpointDirectory: the checkpoints of one run folder: "checkpoint-step00001234.h5" files, a
// `latest` symlink to the newest, and only the newest K kept.

#include <optional>
#include <string>
#include <vector>

#include "checkpoints/checkpoint.hpp"

namespace convoy {

struct SkippedCheckpoint {
  std::string path, reason;
};

struct LatestCheckpoint {
  std::optional<std::string> path;         // the newest file that reads and validates
  std::vector<SkippedCheckpoint> skipped;  // newer files that did not, and why
};

class CheckpointDirectory {
 public:
  // keep_last = 0 keeps every checkpoint.
  CheckpointDirectory(std::string run_dir, int64_t keep_last);

  // Writes atomically, points `latest` at it, removes the oldest beyond keep_last and the
  // temporary files of writes a kill interrupted; returns the path written.
  std::string save(const Checkpoint& checkpoint);
  LatestCheckpoint find_latest_valid() const;
  // Checkpoint files, newest step first.
  std::vector<std::string> list() const;
  std::string path_for_step(int64_t step) const;

 private:
  void remove_abandoned_temporaries() const;
  std::string run_dir_;
  int64_t keep_last_;
};

}  // namespace convoy
