#include "framework/distributed/faults.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace convoy {

void abort_job(const Communicator& communicator, const std::string& message, int exit_code) {
  std::fprintf(stderr, "convoy: rank %d: %s\n", communicator.rank(), message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

static double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

HangDetector::HangDetector(const Communicator& communicator, double factor, double min_seconds)
    : communicator_(communicator), factor_(factor), min_seconds_(min_seconds) {
  if (factor_ > 0) thread_ = std::thread([this] { watch(); });
}

HangDetector::~HangDetector() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HangDetector::start(std::string what, double steps) {
  std::lock_guard lock(mutex_);
  what_ = std::move(what);
  steps_ = steps;
  started_at_ = now_seconds();
  running_ = true;
}

void HangDetector::step_started(int64_t step) { start("step " + std::to_string(step), 1.0); }

void HangDetector::step_finished() {
  std::lock_guard lock(mutex_);
  running_ = false;
  recent_.push_back(now_seconds() - started_at_);
  if (recent_.size() > 50) recent_.erase(recent_.begin());
}

void HangDetector::evaluation_started(int64_t step, int64_t batches) {
  // A forward pass costs about a third of a training step (backward twice the forward).
  start("the evaluation after step " + std::to_string(step),
        std::max(1.0, static_cast<double>(batches) / 3));
}

void HangDetector::evaluation_finished() {
  std::lock_guard lock(mutex_);
  running_ = false;  // not a step: its duration stays out of the median
}

double HangDetector::current_limit() const {
  std::lock_guard lock(mutex_);
  if (recent_.empty()) return std::max(min_seconds_, 600.0);  // the first step builds kernels
  std::vector<double> sorted = recent_;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  return std::max(min_seconds_, factor_ * steps_ * sorted[sorted.size() / 2]);
}

void HangDetector::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_ || !running_) continue;
    const double elapsed = now_seconds() - started_at_;
    lock.unlock();
    const double limit = current_limit();
    lock.lock();
    if (running_ && elapsed > limit) {
      char message[320];
      std::snprintf(message, sizeof message,
                    "%s has run for %.1f s, beyond the hang limit of %.1f s (--hang-factor "
                    "x the median step, at least --hang-min-seconds); a peer may have died or a "
                    "collective is stuck; aborting the job",
                    what_.c_str(), elapsed, limit);
      abort_job(communicator_, message);
    }
  }
}

std::string first_nonfinite_gradient(const std::vector<NamedParameter>& parameters) {
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    const float* grad = it->parameter->grad.plain_data();
    const int64_t count = it->parameter->grad.element_count();
    // A sum is NaN or infinite iff some term is (or the terms overflow, also worth stopping).
    float sum = 0.0f;
    for (int64_t i = 0; i < count; ++i) sum += grad[i] * 0.0f;
    if (!std::isfinite(sum)) return it->name;
  }
  return {};
}

}  // namespace convoy
