// `kbz-install plan --module N [--hosts SEL]`: checks only, changes nothing; per host what would change, with
// unified diffs for files (secrets masked). Exit 0 even with pending changes; 1 if a host was unreachable or
// a check could not run; 2 on bad input.
#include "kbz/cli/commands.hpp"
#include "module_run.hpp"

namespace kbz {
int cmd_plan(const GlobalOptions& g, int module) { return run_module_command(g, RunMode::Plan, module, ""); }
}  // namespace kbz
