#pragma once
// Fault handling shared by every rank: a watchdog that ends a job whose step hangs, and the
// search for the first non-finite gradient.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "framework/distributed/communicator.hpp"
#include "framework/graph/named_tensors.hpp"

namespace convoy {

// Prints "convoy: rank R: <message>" on stderr and ends every rank of the job (MPI_Abort).
[[noreturn]] void abort_job(const Communicator& communicator, const std::string& message,
                            int exit_code = 1);

// HangDetector: a watchdog thread. When a step runs longer than max(factor x median of the
// recent steps, min_seconds), the rank reports which step hangs and for how long, and aborts
// the job: a dead peer or a stuck collective ends in seconds-to-minutes, not at the wall-time
// limit. An evaluation between steps (collective too) is watched the same way, its limit
// scaled by how many steps' worth of batches it runs.
class HangDetector {
 public:
  HangDetector(const Communicator& communicator, double factor, double min_seconds);
  ~HangDetector();
  HangDetector(const HangDetector&) = delete;
  HangDetector& operator=(const HangDetector&) = delete;

  void step_started(int64_t step);
  void step_finished();
  // An evaluation after `step` that runs `batches` forward passes of up to a step's batch.
  void evaluation_started(int64_t step, int64_t batches);
  void evaluation_finished();
  // The limit the watchdog applies to what is running, in seconds.
  double current_limit() const;

 private:
  void start(std::string what, double steps);
  void watch();
  const Communicator& communicator_;
  double factor_, min_seconds_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<double> recent_;  // durations of the last steps, seconds
  std::string what_;            // "step 12", "the evaluation after step 16"
  double steps_ = 1;            // what_'s length in steps, for its limit
  double started_at_ = 0;
  bool running_ = false, stopping_ = false;
  std::thread thread_;
};

// Name of the first parameter, in backward order, whose gradient holds a NaN or infinity;
// empty when all are finite.
std::string first_nonfinite_gradient(const std::vector<NamedParameter>& parameters);

}  // namespace convoy
