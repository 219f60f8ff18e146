// Shared by `plan` and `apply`: load the module, settings, credentials and targets, work every host in
// parallel, print, record the run. Private to src/cli.
#pragma once
#include <string>

#include "kbz/cli/commands.hpp"
#include "kbz/engine/engine.hpp"

namespace kbz {
int run_module_command(const GlobalOptions& g, RunMode mode, int module, const std::string& from_step);
// The recap table after an apply (hosts, counts, duration, each host's first failure).
void print_recap(std::ostream& out, const RunSummary& summary, size_t width);
}  // namespace kbz
