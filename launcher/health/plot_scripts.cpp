#include "launcher/health/plot_scripts.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

extern char** environ;

namespace convoy::launcher {

namespace fs = std::filesystem;

namespace {

// posix_spawn instead of system(): run directories may hold any character, no shell quoting.
int spawn_and_wait(const std::vector<std::string>& command, bool quiet) {
  std::vector<char*> argv;
  for (const auto& argument : command) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string find_plot_script(const std::string& name) {
  std::vector<fs::path> folders;
  if (const char* extra = std::getenv("CONVOY_SCRIPTS")) folders.push_back(extra);
  folders.push_back(CONVOY_SCRIPT_DIR);
  std::error_code ignored;
  const fs::path self = fs::read_symlink("/proc/self/exe", ignored);
  if (!ignored) {
    folders.push_back(self.parent_path() / "scripts");
    folders.push_back(self.parent_path().parent_path() / "scripts");
  }
  for (const auto& folder : folders) {
    if (fs::is_regular_file(folder / name, ignored)) return (folder / name).string();
  }
  return "";
}

bool python_has_matplotlib(const std::string& python) {
  return spawn_and_wait({python, "-c", "import matplotlib"}, true) == 0;
}

int run_python_script(const std::string& python, const std::string& script,
                      const std::vector<std::string>& arguments) {
  std::vector<std::string> command = {python, script};
  command.insert(command.end(), arguments.begin(), arguments.end());
  std::fflush(stdout);
  return spawn_and_wait(command, false);
}

}  // namespace convoy::launcher
