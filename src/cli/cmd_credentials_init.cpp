// Placeholder until the owning issue lands; replaced as a whole file.
#include <iostream>

#include "kbz/cli/commands.hpp"

namespace kbz {
int cmd_credentials_init(const GlobalOptions&, std::optional<int>) {
  std::cerr << "kbz-install: 'credentials_init' is not built yet\n";
  return static_cast<int>(ExitCode::BadInput);
}
}  // namespace kbz
