// convoy: the command-line entry point. Placeholder until the launcher lands.
#include <cstdio>

int main() {
  std::puts("convoy");
  return 0;
}
