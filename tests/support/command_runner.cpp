#include "support/command_runner.hpp"

#include <sys/wait.h>

#include <chrono>
#include <filesystem>

namespace convoy::testing {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  while (size_t read = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

CommandResult run_convoy(const std::string& arguments) {
  return run_command(std::string("OMP_NUM_THREADS=1 ") + CONVOY_BINARY + " " + arguments);
}

CommandResult run_convoy_mpi(int ranks, const std::string& arguments) {
  return run_command(
      "OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
      "mpirun -np " +
      std::to_string(ranks) + " --oversubscribe --bind-to none -x OMP_NUM_THREADS " +
      CONVOY_BINARY + " " + arguments);
}

std::string fresh_directory(const std::string& name) {
  const auto path = std::filesystem::current_path() / "test-runs" / name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

std::string model_hash(const std::string& checkpoint) {
  CommandResult result = run_convoy("inspect --hash " + checkpoint);
  if (result.exit_code != 0) return "inspect failed: " + result.output;
  while (!result.output.empty() && result.output.back() == '\n') result.output.pop_back();
  return result.output;
}

}  // namespace convoy::testing
