// `kbz-install apply --module N [--hosts SEL] [--from-step ID]`: hosts in parallel, steps in order, one line
// per step per host as it happens, a recap table (or --json) at the end. Exit 1 if any host failed.
#include "kbz/cli/commands.hpp"
#include "module_run.hpp"

namespace kbz {
int cmd_apply(const GlobalOptions& g, int module, const std::string& from_step) {
  return run_module_command(g, RunMode::Apply, module, from_step);
}
}  // namespace kbz
