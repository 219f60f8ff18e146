// plan and apply of one module over its hosts (ninja's build.h keeps Plan apart from Builder; here the
// per-host work is engine/host_run, the policy around it lives here): credentials, host locks, rolling turns
// and forks, reconnects, the converge phase after every host is done, the run recorded in .kbz/state.json.
#pragma once
#include <string>

#include "kbz/engine/engine.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/run/run.hpp"

namespace kbz {

struct ModuleRunRequest {
  int module = 0;
  RunMode mode = RunMode::Plan;
  std::string from_step;  // apply: steps before it are skipped
  RunObserver* observer = nullptr;
  PreflightUse preflight = PreflightUse::Enforce;  // --skip-preflight: Skip (said in the log)
};

// Input problems (unknown module or step, hosts, credentials) are errors before any host is contacted; host
// failures are in the summary.
Result<RunSummary> run_module(Run& run, const ModuleRunRequest& request);

}  // namespace kbz
