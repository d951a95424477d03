#include "support/command_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace convoy::testing {

// stderr goes to a file of its own: under mpirun, every rank's stdout and stderr reach the
// terminal as separately forwarded chunks, so a merged stream can cut a long JSON line with a log
// line; a script reads stdout alone, and so do the tests that parse it.
CommandResult run_command(const std::string& command) {
  CommandResult result;
  const auto start = std::chrono::steady_clock::now();
  char error_path[] = "/tmp/convoy-test-stderr-XXXXXX";
  const int error_file = mkstemp(error_path);
  if (error_file < 0) return result;
  close(error_file);
  FILE* pipe = popen(("(" + command + ") 2>" + error_path).c_str(), "r");
  if (pipe) {
    char buffer[4096];
    while (size_t read = fread(buffer, 1, sizeof buffer, pipe))
      result.standard_output.append(buffer, read);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::ifstream error_stream(error_path, std::ios::binary);
  result.standard_error.assign(std::istreambuf_iterator<char>(error_stream), {});
  std::remove(error_path);
  result.output = result.standard_error + result.standard_output;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

CommandResult run_convoy(const std::string& arguments) {
  return run_command(std::string("OMP_NUM_THREADS=1 ") + CONVOY_BINARY + " " + arguments);
}

CommandResult run_convoy_mpi(int ranks, const std::string& arguments, int timeout_seconds) {
  const std::string timeout =
      timeout_seconds > 0 ? "timeout -k 5 " + std::to_string(timeout_seconds) + " " : "";
  return run_command(
      "OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + timeout +
      "mpirun -np " + std::to_string(ranks) +
      " --oversubscribe --bind-to none -x OMP_NUM_THREADS " + CONVOY_BINARY + " " + arguments);
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
