// convoy: the command-line entry point. Every rank runs main(); errors anywhere become one
// line on stderr naming the rank and a non-zero exit, and a multi-rank job is aborted so no
// rank waits forever on a collective its peer will never join.

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "framework/common/error.hpp"
#include "launcher/command.hpp"
#include "launcher/training/preemption.hpp"
#include "launcher/usage_error.hpp"
#include "launcher/usage_error_channel.hpp"

namespace convoy::launcher {

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"train", "train a recipe (mpirun -np N for data-parallel training)", run_train},
      {"eval", "evaluate a checkpoint or a freshly built model on a test split", run_eval},
      {"summary", "per-layer shapes, parameters, FLOPs and receptive fields of a recipe",
       run_summary},
      {"inspect", "what a checkpoint holds (recipe, step, metrics, tensors) without a model",
       run_inspect},
      {"bench", "training speed on synthetic data: images/s, memory, per-layer table", run_bench},
      {"bench-allreduce", "the allreduce against its bandwidth bound (under mpirun -np P)",
       run_allreduce_bench},
      {"gradcheck", "finite differences against backward for every layer of a recipe",
       run_gradcheck},
      {"convert", "write any supported dataset split as an HDF5 dataset for cluster jobs",
       run_convert},
      {"health", "per-layer training-health table and plots of a run (train --health-every N)",
       run_health},
      {"filters", "a convolution's filters from a checkpoint as a PNG grid, and their correlation",
       run_filters},
      {"units", "the test images that excite chosen units of a layer most, cropped, as a PNG",
       run_units},
      {"receptive-field", "effective vs theoretical receptive field of a layer, as a heat map",
       run_receptive_field},
  };
  return kCommands;
}

static void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: convoy <command> [options]   (convoy <command> --help)\n\ncommands:\n");
  for (const auto& command : commands()) {
    std::fprintf(out, "  %-16s %s\n", command.name, command.summary);
  }
}

// "(commands: train, eval, ...; convoy --help)"
static std::string command_list() {
  std::string list = "(commands:";
  for (const auto& command : commands()) list += std::string(" ") + command.name + ",";
  list.back() = ';';
  return list + " convoy --help)";
}

static int world_rank() {
  int initialized = 0, rank = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

static int world_size() {
  int initialized = 0, size = 1;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

static void print_error(const std::string& message) {
  if (world_size() > 1) {
    std::fprintf(stderr, "convoy: rank %d: %s\n", world_rank(), message.c_str());
  } else {
    std::fprintf(stderr, "convoy: %s\n", message.c_str());
  }
  std::fflush(stderr);
}

// Finalizes MPI and exits. _Exit, not exit: the exit handlers include HDF5's library shutdown,
// which crashes on a file whose flush failed (a full disk under `convoy convert`), turning one
// error line into a segfault. The stack is already unwound, so every object that owns a file
// has closed it.
[[noreturn]] static void finalize_and_exit(int code) {
  int finalized = 0, initialized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
  std::fflush(nullptr);
  std::_Exit(code);
}

// One line, then end the whole job: MPI_Abort on more than one rank (a peer may be blocked in
// a collective), a plain exit code otherwise.
[[noreturn]] static void fail(const std::string& message, int code) {
  print_error(message);
  if (world_size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
  finalize_and_exit(code);
}

// How long a rank that refused its command line waits for its peers' verdicts (see
// UsageErrorChannel). They parse the same line right after MPI_Init, which they leave together,
// so they arrive within milliseconds; only a rank that alone refused waits this long.
constexpr std::chrono::seconds kUsageErrorWait{3};

// A usage error: printed once when every rank refused the same command line, exit code 2.
[[noreturn]] static void fail_usage(const std::string& message, UsageErrorChannel& channel) {
  if (world_size() == 1) fail(message, kExitUsage);
  // At once on rank 0: a peer's own failure may abort the job while this rank waits below.
  if (world_rank() == 0) print_error(message);
  const auto agreement = channel.compare(message, kUsageErrorWait);
  if (world_rank() != 0 && !agreement.same_as_rank_zero) print_error(message);
  // A rank that did not refuse is still working and must be stopped.
  if (!agreement.every_rank_refused) MPI_Abort(MPI_COMM_WORLD, kExitUsage);
  finalize_and_exit(kExitUsage);
}

}  // namespace convoy::launcher

int main(int argc, char** argv) {
  using namespace convoy::launcher;
  std::vector<std::string> arguments(argv + 1, argv + argc);
  if (arguments.empty() || arguments[0] == "--help" || arguments[0] == "-h") {
    print_usage(arguments.empty() ? stderr : stdout);
    return arguments.empty() ? kExitUsage : kExitSuccess;
  }
  const Command* command = nullptr;
  for (const auto& candidate : commands()) {
    if (arguments[0] == candidate.name) command = &candidate;
  }
  // Before MPI_Init, which waits for every rank to start: a SIGTERM/SIGUSR1 (a preemption, a
  // time limit) meant for `train` in that wait must be a request to stop, not a kill.
  if (command && command->run == run_train) install_preemption_handlers();
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  UsageErrorChannel usage_errors;
  int code = kExitSuccess;
  try {
    if (!command) throw UsageError("unknown command '" + arguments[0] + "' " + command_list());
    code = command->run({arguments.begin() + 1, arguments.end()});
  } catch (const UsageError& error) {
    fail_usage(error.what(), usage_errors);
  } catch (const convoy::CollectiveError& error) {
    // Every rank raised this same error: rank 0 reports it, the others give it a moment.
    if (world_rank() != 0) std::this_thread::sleep_for(std::chrono::seconds(2));
    fail(error.what(), kExitFailure);
  } catch (const std::bad_alloc&) {
    // Its what() is only "std::bad_alloc": say what happened and where.
    fail(std::string("out of memory (std::bad_alloc) while running ") + command->name,
         kExitFailure);
  } catch (const std::exception& error) {
    fail(error.what(), kExitFailure);
  }
  MPI_Finalize();
  return code;
}
