// Placeholder until the owning issue lands; replaced as a whole file.
#include <iostream>

#include "kbz/cli/commands.hpp"

namespace kbz {
int cmd_verify(const GlobalOptions&, std::optional<int>, bool) {
  std::cerr << "kbz-install: 'verify' is not built yet\n";
  return static_cast<int>(ExitCode::BadInput);
}
}  // namespace kbz
