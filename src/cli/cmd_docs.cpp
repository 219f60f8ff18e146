// Placeholder until the owning issue lands; replaced as a whole file.
#include <iostream>

#include "kbz/cli/commands.hpp"

namespace kbz {
int cmd_docs(const GlobalOptions&, bool, const std::string&) {
  std::cerr << "kbz-install: 'docs' is not built yet\n";
  return static_cast<int>(ExitCode::BadInput);
}
}  // namespace kbz
