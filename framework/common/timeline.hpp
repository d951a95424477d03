#pragma once
// Timeline: spans of work on one rank (each layer's forward and backward, each gradient
// bucket's allreduce, the optimizer), written as Chrome trace events (chrome://tracing,
// ui.perfetto.dev), as Horovod's timeline and torch.profiler's export_chrome_trace.
//
// Why it works this way:
// 1. Times are microseconds since an origin each rank takes right after a barrier, so the
//    ranks' lanes line up on one time axis without synchronized clocks (skew: the barrier's
//    exit, microseconds on one node).
// 2. A span names its lane ("compute", "allreduce"): work that overlaps (a bucket in flight
//    while backward goes on) lies on different lanes of the rank's process, one above the other.

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace convoy {

class Timeline {
 public:
  using Clock = std::chrono::steady_clock;

  struct Span {
    std::string name;
    std::string lane;      // "compute", "allreduce", ...
    double start_us = 0;   // since the origin
    double duration_us = 0;
  };

  explicit Timeline(Clock::time_point origin = Clock::now()) : origin_(origin) {}

  void add(std::string name, std::string lane, Clock::time_point start, Clock::time_point end);
  const std::vector<Span>& spans() const { return spans_; }

  // Complete events ("ph": "X") for process `process` (the rank), one thread per lane in the
  // order lanes first appear, plus the metadata events naming the process and its lanes.
  nlohmann::json chrome_trace_events(int process, const std::string& process_name) const;

 private:
  Clock::time_point origin_;
  std::vector<Span> spans_;
};

}  // namespace convoy
