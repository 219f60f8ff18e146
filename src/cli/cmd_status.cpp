// kbz-install status: writes and prints SUIVI_INSTALLATION_V2.md from the recorded runs (.kbz/state.json).
#include <filesystem>
#include <iostream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/report/suivi.hpp"
#include "kbz/run/verify_run.hpp"

namespace kbz {

int cmd_status(const GlobalOptions& g) {
  // Titles from the module definitions when they load; the built-in list covers modules not written yet.
  std::vector<Module> modules;
  if (auto loaded = load_all_modules(module_source_of(g)); loaded) modules = std::move(*loaded);
  auto text = write_suivi(g, modules);
  if (!text) {
    std::cerr << "kbz-install status: " << mask(text.error().message) << '\n';
    return static_cast<int>(text.error().kind == ErrorKind::Input ? ExitCode::BadInput
                                                                  : ExitCode::HostFailure);
  }
  std::cout << *text;
  return 0;
}

}  // namespace kbz
