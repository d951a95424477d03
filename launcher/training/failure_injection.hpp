#pragma once
// Failure injection (--inject-failure, --inject-failure-step, --inject-failure-rank): the
// failure paths of a distributed run must be testable on purpose, at a chosen moment.

#include <cstdint>

#include "launcher/run_config.hpp"

namespace convoy::launcher {

// At the start of global step `step` (1-based) on `rank`: throw, hang, or raise SIGUSR1 as a
// preemption would, when the options ask for this step and rank.
void inject_failure_at_step(const RunConfig& config, int rank, int64_t step);
// At the start of the evaluation after global step `step`: with hang-in-evaluation, the chosen
// rank stops responding while its peers enter the evaluation's collectives.
void inject_failure_at_evaluation(const RunConfig& config, int rank, int64_t step);

}  // namespace convoy::launcher
