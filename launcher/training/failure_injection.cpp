#include "launcher/training/failure_injection.hpp"

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "framework/common/error.hpp"

namespace convoy::launcher {

namespace {

[[noreturn]] void hang() {
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

bool asked(const RunConfig& c, int rank, int64_t step) {
  return c.inject_failure_step == step && c.inject_failure_rank == rank;
}

}  // namespace

void inject_failure_at_step(const RunConfig& c, int rank, int64_t step) {
  if (!asked(c, rank, step) || c.inject_failure == "hang-in-evaluation") return;
  if (c.inject_failure == "hang") hang();
  if (c.inject_failure == "signal") {
    std::raise(SIGUSR1);  // a preemption that lands in exactly this step
    return;
  }
  throw TrainingError("injected failure at step " + std::to_string(step) +
                      " (--inject-failure-step)");
}

void inject_failure_at_evaluation(const RunConfig& c, int rank, int64_t step) {
  if (asked(c, rank, step) && c.inject_failure == "hang-in-evaluation") hang();
}

}  // namespace convoy::launcher
