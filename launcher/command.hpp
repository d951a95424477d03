#pragma once
// A convoy sub-command (`convoy train`, `convoy eval`, ...): its name, one-line summary and
// entry point. main() dispatches by name and turns exceptions into one line and an exit code.

#include <string>
#include <vector>

namespace convoy::launcher {

// Exit codes shared by every command and documented in the README.
constexpr int kExitSuccess = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;       // unknown option or bad value
constexpr int kExitPreempted = 75;  // EX_TEMPFAIL: checkpointed on a signal, requeue me

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& arguments);
};

const std::vector<Command>& commands();

int run_train(const std::vector<std::string>& arguments);
int run_eval(const std::vector<std::string>& arguments);
int run_summary(const std::vector<std::string>& arguments);
int run_inspect(const std::vector<std::string>& arguments);
int run_bench(const std::vector<std::string>& arguments);
int run_allreduce_bench(const std::vector<std::string>& arguments);
int run_gradcheck(const std::vector<std::string>& arguments);
int run_convert(const std::vector<std::string>& arguments);
int run_health(const std::vector<std::string>& arguments);
int run_filters(const std::vector<std::string>& arguments);
int run_units(const std::vector<std::string>& arguments);
int run_receptive_field(const std::vector<std::string>& arguments);

}  // namespace convoy::launcher
