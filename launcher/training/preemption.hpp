#pragma once
// Preemption: SIGTERM and SIGUSR1 (Slurm's warning before a time limit or a preemption) set a
// flag; the trainer agrees on it with every rank at the end of a step, checkpoints and exits
// with kExitPreempted so the batch script requeues the job.

namespace convoy::launcher {

void install_preemption_handlers();
bool preemption_requested();
// The signal that asked (for the log), 0 if none.
int preemption_signal();

}  // namespace convoy::launcher
