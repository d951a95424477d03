#pragma once
// Runs the convoy executable (or mpirun around it) as a user would, for end-to-end tests.

#include <cstdio>
#include <string>

namespace convoy::testing {

struct CommandResult {
  int exit_code = -1;
  std::string standard_output;  // what a script reading the command's stdout gets
  std::string standard_error;
  std::string output;  // stderr, then stdout: where a test looks for a message
  double seconds = 0;
};

CommandResult run_command(const std::string& command);
// "build/convoy <arguments>", single process, one thread.
CommandResult run_convoy(const std::string& arguments);
// "mpirun -np N --oversubscribe build/convoy <arguments>", one thread per rank. With
// timeout_seconds, mpirun is killed after that long (exit 124), so a test of a hang that is not
// detected fails instead of hanging.
CommandResult run_convoy_mpi(int ranks, const std::string& arguments, int timeout_seconds = 0);
// A fresh empty folder under the build tree for one test's runs.
std::string fresh_directory(const std::string& name);
// `convoy inspect --hash` of a checkpoint: equal strings, bit-identical model tensors.
std::string model_hash(const std::string& checkpoint);

}  // namespace convoy::testing
