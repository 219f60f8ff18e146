// SUIVI_INSTALLATION_V2.md: where the installation stands, module by module, rendered from the recorded runs
// (.kbz/state.json stays the machine-readable truth; this file is for people).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kbz/report/run_state.hpp"

namespace kbz {

enum class ModuleState {
  NotDone,  // ⏳ no successful apply recorded
  Applied,  // 🔄 last apply ok, not verified since
  Done,     // ✅ last apply ok and a later verify ok
  Failed,   // ❌ the module's last apply/verify failed or was interrupted
};

// Plans are ignored: they change nothing.
ModuleState module_state(const std::vector<RunRecord>& runs, int module);
std::string state_icon(ModuleState state);

struct SuiviContext {
  std::string generated_utc;
  std::string version;
  std::string command_prefix =
      "kbz-install";                  // with the global flags the next command needs (--inventory, --workdir)
  std::map<int, std::string> titles;  // module -> title_fr; missing ones come from the built-in list
  std::set<int> available;            // modules this binary has; empty = all 2..9
};

// The "Prochaine étape": first module (2..9) not ✅ and the exact command to run; 0 when all are done.
// The first module, in order, that is not applied and verified and that this binary has (empty = all).
int next_module(const std::vector<RunRecord>& runs, const std::set<int>& available = {});
std::string next_command(const std::vector<RunRecord>& runs, int module, const std::string& command_prefix);

// Markdown, already masked.
std::string render_suivi(const std::vector<RunRecord>& runs, const SuiviContext& context);

}  // namespace kbz
