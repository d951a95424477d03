#include "checkpoints/checkpoint_directory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "checkpoints/checkpoint_reader.hpp"
#include "checkpoints/checkpoint_writer.hpp"
#include "framework/common/error.hpp"

namespace convoy {

namespace fs = std::filesystem;

CheckpointDirectory::CheckpointDirectory(std::string run_dir, int64_t keep_last)
    : run_dir_(std::move(run_dir)), keep_last_(keep_last) {
  if (keep_last_ < 0) throw ConfigError("--keep-checkpoints must be >= 0");
}

std::string CheckpointDirectory::path_for_step(int64_t step) const {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-step%08lld.h5", static_cast<long long>(step));
  return (fs::path(run_dir_) / name).string();
}

std::vector<std::string> CheckpointDirectory::list() const {
  std::vector<std::string> files;
  if (!fs::is_directory(run_dir_)) return files;
  for (const auto& entry : fs::directory_iterator(run_dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("checkpoint-step") && name.ends_with(".h5") && entry.is_regular_file()) {
      files.push_back(entry.path().string());
    }
  }
  // Zero-padded step numbers: name order is step order.
  std::sort(files.rbegin(), files.rend());
  return files;
}

// A kill during a write leaves its temporary file (CheckpointWriter's "<checkpoint>.tmp.PID",
// or ".latest.tmp.PID"), as large as a checkpoint, and a preempted job may be killed often.
// A run folder has one writer, rank 0 of the one job, so at its save any such file is
// abandoned.
void CheckpointDirectory::remove_abandoned_temporaries() const {
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(run_dir_, ignored)) {
    const std::string name = entry.path().filename().string();
    const bool checkpoint_temporary =
        name.starts_with("checkpoint-step") && name.find(".h5.tmp.") != std::string::npos;
    if (checkpoint_temporary || name.starts_with(".latest.tmp.")) fs::remove(entry.path(), ignored);
  }
}

std::string CheckpointDirectory::save(const Checkpoint& checkpoint) {
  fs::create_directories(run_dir_);
  remove_abandoned_temporaries();
  const std::string path = path_for_step(checkpoint.step);
  CheckpointWriter::write(path, checkpoint);
  // `latest` is replaced atomically too: a new symlink under a temporary name, then renamed.
  const fs::path latest = fs::path(run_dir_) / "latest";
  const fs::path temporary = fs::path(run_dir_) / (".latest.tmp." + std::to_string(::getpid()));
  std::error_code ignored;
  fs::remove(temporary, ignored);
  fs::create_symlink(fs::path(path).filename(), temporary);
  fs::rename(temporary, latest);
  if (keep_last_ > 0) {
    const auto files = list();
    for (size_t i = static_cast<size_t>(keep_last_); i < files.size(); ++i)
      fs::remove(files[i], ignored);
  }
  return path;
}

LatestCheckpoint CheckpointDirectory::find_latest_valid() const {
  LatestCheckpoint result;
  for (const auto& path : list()) {
    try {
      CheckpointReader::read(path);
      result.path = path;
      return result;
    } catch (const Error& error) {
      result.skipped.push_back({path, error.what()});
    }
  }
  return result;
}

}  // namespace convoy
