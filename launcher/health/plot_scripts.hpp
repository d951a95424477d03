#pragma once
// Runs the project's matplotlib scripts (scripts/plot_*.py) from convoy commands. Plots are
// an extra: a missing interpreter or matplotlib is reported, never fatal.

#include <string>
#include <vector>

namespace convoy::launcher {

// Path of scripts/NAME: $CONVOY_SCRIPTS, the source tree's scripts/, or scripts/ next to (or
// one above) the executable. Empty when none holds it.
std::string find_plot_script(const std::string& name);

// Runs `python -c "import matplotlib"`; false when either is missing.
bool python_has_matplotlib(const std::string& python);

// Runs `python script arguments...` (output goes to ours); returns its exit status, or -1 when
// it could not be started.
int run_python_script(const std::string& python, const std::string& script,
                      const std::vector<std::string>& arguments);

}  // namespace convoy::launcher
