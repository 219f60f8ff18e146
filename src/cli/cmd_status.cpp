// Placeholder until the owning issue lands; replaced as a whole file.
#include <iostream>

#include "kbz/cli/commands.hpp"

namespace kbz {
int cmd_status(const GlobalOptions&) {
  std::cerr << "kbz-install: 'status' is not built yet\n";
  return static_cast<int>(ExitCode::BadInput);
}
}  // namespace kbz
