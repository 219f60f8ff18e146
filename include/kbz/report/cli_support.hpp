// Bits the report-side commands (verify, status, docs) share: module source from the global options and the
// global flags a printed follow-up command must carry to act on the same inventory and working folder.
#pragma once
#include <string>

#include "kbz/cli/commands.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {

ModuleSource module_source_of(const GlobalOptions& g);
// "kbz-install" plus --inventory/--config/--env/--workdir/--modules-dir when they differ from the defaults.
std::string command_prefix(const GlobalOptions& g);

}  // namespace kbz
