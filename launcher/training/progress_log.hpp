#pragma once
// ProgressLog: what a person watching sees (a progress bar on a terminal, plain log lines
// otherwise) and what a script reads (metrics.jsonl, one JSON object per line). Rank 0 only.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace convoy::launcher {

struct StepRecord {
  int64_t step = 0;  // global optimizer steps done
  int64_t epoch = 0;
  int64_t step_in_epoch = 0, steps_per_epoch = 0, total_steps = 0;
  double learning_rate = 0, loss = 0, accuracy = 0, images_per_second = 0;
  double seconds_remaining = 0;
};

class ProgressLog {
 public:
  // metrics_path empty: no metrics file (other ranks, evaluation-only commands).
  // progress: "bar", "lines" or "auto".
  ProgressLog(const std::string& metrics_path, bool enabled, int64_t log_every,
              const std::string& progress = "auto");
  ~ProgressLog();

  void step(const StepRecord& record);
  // Appends an arbitrary record ({"kind": ...}) to the metrics file and prints `line`.
  void event(const nlohmann::json& record, const std::string& line);
  // Appends a record to the metrics file without printing (bulky per-layer records).
  void record(const nlohmann::json& record);
  void message(const std::string& line);

 private:
  void end_bar();
  bool enabled_;
  bool terminal_;
  bool bar_open_ = false;
  int64_t log_every_;
  std::ofstream metrics_;
};

}  // namespace convoy::launcher
