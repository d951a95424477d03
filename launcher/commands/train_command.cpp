// `convoy train`: one training run (every rank of an mpirun job runs this).

#include "launcher/command.hpp"
#include "launcher/run_config.hpp"
#include "launcher/training/trainer.hpp"

namespace convoy::launcher {

int run_train(const std::vector<std::string>& arguments) {
  RunConfig config;
  boost::program_options::options_description options;
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: [mpirun -np N] convoy train --recipe NAME [options]\n"
                          "Trains a recipe (launcher/recipes/NAME.cfg); any option overrides the "
                          "recipe. Exit codes: 0 done, 1 failed, 2 bad usage, 75 stopped by "
                          "SIGTERM/SIGUSR1 after a checkpoint (requeue me).",
                          &config)) {
    return kExitSuccess;
  }
  // The SIGTERM/SIGUSR1 handlers are installed by main(), before MPI_Init.
  Trainer trainer(config);
  return trainer.run();
}

}  // namespace convoy::launcher
