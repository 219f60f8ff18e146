// kbz-install status: writes and prints SUIVI_INSTALLATION_V2.md from the recorded runs (.kbz/state.json).
#include <filesystem>
#include <iostream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/report/suivi.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {

int cmd_status(const GlobalOptions& g) {
  auto runs = load_runs(g.workdir);
  if (!runs) {
    std::cerr << "kbz-install status: " << mask(runs.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  SuiviContext ctx;
  ctx.generated_utc = now_utc_iso();
  ctx.version = KBZ_VERSION;
  ctx.command_prefix = command_prefix(g);
  // Titles from the module definitions when they load; the built-in list covers modules not written yet.
  if (auto modules = load_all_modules(module_source_of(g)); modules)
    for (const auto& m : *modules) {
      ctx.titles[m.number] = m.title_fr;
      ctx.available.insert(m.number);
    }

  const std::string text = render_suivi(*runs, ctx);
  const std::string path = (std::filesystem::path(g.workdir) / "SUIVI_INSTALLATION_V2.md").string();
  if (auto w = write_file_atomic(path, text); !w) {
    std::cerr << "kbz-install status: " << mask(w.error().message) << '\n';
    return static_cast<int>(ExitCode::HostFailure);
  }
  std::cout << text;
  return 0;
}

}  // namespace kbz
