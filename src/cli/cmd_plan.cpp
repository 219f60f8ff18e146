// Placeholder until the owning issue lands; replaced as a whole file.
#include <iostream>

#include "kbz/cli/commands.hpp"

namespace kbz {
int cmd_plan(const GlobalOptions&, int) {
  std::cerr << "kbz-install: 'plan' is not built yet\n";
  return static_cast<int>(ExitCode::BadInput);
}
}  // namespace kbz
