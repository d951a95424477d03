// `convoy health RUN_DIR`: the training-health records of a run (train --health-every N) as a
// per-layer table with flags (dead, vanishing, exploding, correlated, update ratio), and PNG
// plots of the statistics and of the run's loss, accuracy, learning rate and speed.

#include <cstdio>

#include "launcher/command.hpp"
#include "launcher/health/health_report.hpp"
#include "launcher/health/plot_scripts.hpp"
#include "launcher/option_value.hpp"
#include "launcher/run_config.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace {

// Writes `output` with scripts/`script`; warns (never fails) when it cannot.
void plot(const std::string& python, const std::string& script, const std::string& run_dir,
          const std::string& output) {
  const std::string path = find_plot_script(script);
  if (path.empty()) {
    std::fprintf(stderr,
                 "convoy health: warning: scripts/%s not found (set CONVOY_SCRIPTS); "
                 "no %s\n",
                 script.c_str(), output.c_str());
    return;
  }
  const int status = run_python_script(python, path, {run_dir, "--output", output});
  if (status != 0) {
    std::fprintf(stderr, "convoy health: warning: %s %s failed (exit %d); no %s\n", python.c_str(),
                 path.c_str(), status, output.c_str());
  }
}

}  // namespace

int run_health(const std::vector<std::string>& arguments) {
  namespace po = boost::program_options;
  std::string run_dir, python = "/usr/bin/python3";
  bool no_plots = false;
  po::options_description options("Health");
  options.add_options()("run-dir", po::value(&run_dir),
                        "run directory with metrics.jsonl (also the first positional argument)")(
      "no-plots", po::bool_switch(&no_plots), "only the table: no health.png and run.png")(
      "python", defaulted(&python),
      "Python interpreter with matplotlib for the plots");
  std::vector<std::string> rest;
  for (const auto& argument : arguments) {
    if (!argument.starts_with("-") && run_dir.empty() &&
        (rest.empty() || (rest.back() != "--run-dir" && rest.back() != "--python"))) {
      run_dir = argument;
    } else {
      rest.push_back(argument);
    }
  }
  if (!parse_command_line(rest, options, "usage: convoy health RUN_DIR [--no-plots]", nullptr)) {
    return kExitSuccess;
  }
  if (run_dir.empty()) throw UsageError("convoy health needs a run directory (see --help)");

  const HealthReport report = read_health_report(run_dir);
  std::fputs(format_health_report(report).c_str(), stdout);
  if (no_plots) return kExitSuccess;
  if (!python_has_matplotlib(python)) {
    std::fprintf(stderr,
                 "convoy health: warning: %s cannot import matplotlib, so no plots "
                 "(Debian: apt-get install python3-matplotlib; or --python PATH)\n",
                 python.c_str());
    return kExitSuccess;
  }
  plot(python, "plot_health.py", run_dir, run_dir + "/health.png");
  plot(python, "plot_run.py", run_dir, run_dir + "/run.png");
  return kExitSuccess;
}

}  // namespace convoy::launcher
