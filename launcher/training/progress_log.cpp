#include "launcher/training/progress_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "framework/common/error.hpp"

namespace convoy::launcher {

// Under mpirun a rank's stdout is often a pseudo-terminal even when the job's output goes to
// a file, so "auto" draws the bar only for a plain process on a terminal.
static bool wants_bar(const std::string& progress) {
  if (progress == "bar") return true;
  if (progress == "lines") return false;
  if (progress != "auto")
    throw ConfigError("--progress must be bar, lines or auto, got '" + progress + "'");
  const bool under_mpirun = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE");
  return isatty(fileno(stdout)) && !under_mpirun;
}

// A run killed while writing a record leaves a last line without its newline; appending to it
// would glue the next record onto the fragment and spoil both. Cuts the fragment; returns how
// many bytes it had.
static std::uintmax_t cut_torn_last_line(const std::string& path) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error || size == 0) return 0;
  std::ifstream file(path, std::ios::binary);
  // A long run's log holds many megabytes of records: read backwards from the end, block by
  // block, only as far as the last newline.
  constexpr std::uintmax_t kBlock = 4096;
  std::string block;
  std::uintmax_t end = size, kept = 0;
  while (end > 0) {
    const std::uintmax_t begin = end > kBlock ? end - kBlock : 0;
    block.resize(static_cast<size_t>(end - begin));
    file.seekg(static_cast<std::streamoff>(begin));
    if (!file.read(block.data(), static_cast<std::streamsize>(block.size()))) {
      throw FileError("cannot read metrics file " + path);
    }
    if (end == size && block.back() == '\n') return 0;
    if (const auto newline = block.rfind('\n'); newline != std::string::npos) {
      kept = begin + newline + 1;
      break;
    }
    end = begin;
  }
  std::filesystem::resize_file(path, kept, error);
  if (error) throw FileError("cannot cut the torn last line of " + path + ": " + error.message());
  return size - kept;
}

ProgressLog::ProgressLog(const std::string& metrics_path, bool enabled, int64_t log_every,
                         const std::string& progress)
    : enabled_(enabled), terminal_(enabled && wants_bar(progress)), log_every_(log_every) {
  if (enabled_ && !metrics_path.empty()) {
    if (const auto torn = cut_torn_last_line(metrics_path); torn > 0) {
      std::printf(
          "metrics: dropped the torn last line of %s (%ju bytes, from a run that was "
          "stopped while writing it)\n",
          metrics_path.c_str(), torn);
    }
    metrics_.open(metrics_path, std::ios::app);
    if (!metrics_) {
      throw FileError("cannot open metrics file " + metrics_path +
                      " for appending: " + std::strerror(errno));
    }
  }
}

ProgressLog::~ProgressLog() { end_bar(); }

void ProgressLog::end_bar() {
  if (bar_open_) std::fputc('\n', stdout);
  bar_open_ = false;
  std::fflush(stdout);
}

static std::string duration(double seconds) {
  const long total = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  return text;
}

void ProgressLog::step(const StepRecord& r) {
  if (!enabled_) return;
  const bool log_now = log_every_ > 0 && (r.step % log_every_ == 0 || r.step == r.total_steps);
  if (log_now && metrics_.is_open()) {
    metrics_ << nlohmann::json{{"kind", "train"},
                               {"step", r.step},
                               {"epoch", r.epoch},
                               {"lr", r.learning_rate},
                               {"loss", r.loss},
                               {"accuracy", r.accuracy},
                               {"images_per_second", r.images_per_second}}
                    .dump()
             << "\n";
    metrics_.flush();
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %lld step %lld/%lld (%lld/%lld) loss %.4f acc %.3f lr %.4g %.0f img/s "
                "ETA %s",
                static_cast<long long>(r.epoch), static_cast<long long>(r.step),
                static_cast<long long>(r.total_steps), static_cast<long long>(r.step_in_epoch),
                static_cast<long long>(r.steps_per_epoch), r.loss, r.accuracy, r.learning_rate,
                r.images_per_second, duration(r.seconds_remaining).c_str());
  if (terminal_) {
    const int width = 24;
    const int filled =
        r.steps_per_epoch > 0 ? static_cast<int>(width * r.step_in_epoch / r.steps_per_epoch) : 0;
    std::printf("\r[%s%s] %s\033[K", std::string(filled, '#').c_str(),
                std::string(width - filled, '.').c_str(), line);
    bar_open_ = true;
    std::fflush(stdout);
  } else if (log_now) {
    std::printf("%s\n", line);
    std::fflush(stdout);
  }
}

void ProgressLog::event(const nlohmann::json& record, const std::string& line) {
  if (!enabled_) return;
  this->record(record);
  message(line);
}

void ProgressLog::record(const nlohmann::json& record) {
  if (!enabled_ || !metrics_.is_open()) return;
  metrics_ << record.dump() << "\n";
  metrics_.flush();
}

void ProgressLog::message(const std::string& line) {
  if (!enabled_) return;
  end_bar();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace convoy::launcher
