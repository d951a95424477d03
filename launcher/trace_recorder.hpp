#pragma once
// TraceRecorder: records a window of steps on every rank into a Timeline and writes them as one
// Chrome trace file, a process per rank (convoy bench --trace, convoy train --trace).
//
// Why it works this way:
// 1. Rank 0 opens the file when the recorder is made, so a path that cannot be written fails
//    before any work instead of after the run.
// 2. start() and finish() are collectives (a barrier for a common origin, a gather of the
//    events); the trainer and the bench call them at the same step on every rank.

#include <fstream>
#include <memory>
#include <string>

#include "framework/common/timeline.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/distributed/reducer.hpp"
#include "framework/graph/net.hpp"

namespace convoy::launcher {

class TraceRecorder {
 public:
  // FileError naming `path` (and the --trace option) when rank 0 cannot create it.
  TraceRecorder(std::string path, Communicator& communicator);

  // From here on, the Net's layers and the Reducer's buckets (if any) add spans.
  void start(Net& net, Reducer* reducer);
  bool recording() const { return timeline_ != nullptr; }
  bool finished() const { return finished_; }
  // A span of this rank's work, while recording (ignored otherwise).
  void add(const std::string& name, const std::string& lane, Timeline::Clock::time_point start,
           Timeline::Clock::time_point end);
  // Detaches from the Net and Reducer, gathers every rank's spans and writes the file (rank 0).
  // Returns the number of spans this rank recorded.
  size_t finish();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Communicator& communicator_;
  std::ofstream file_;
  std::unique_ptr<Timeline> timeline_;
  Net* net_ = nullptr;
  Reducer* reducer_ = nullptr;
  bool finished_ = false;
};

}  // namespace convoy::launcher
