// verify of one module over its hosts, as every command runs it (verify, apply --all): input checked before
// any host is contacted, checks (one exec per host) and, when asked, the failover scenarios, the French
// report written, the run recorded, SUIVI_INSTALLATION_V2.md rewritten and the module run archived
// (logs/archive/, the report names its archive).
#pragma once
#include <string>
#include <vector>

#include "kbz/engine/results.hpp"
#include "kbz/report/validation_report.hpp"
#include "kbz/run/run.hpp"

namespace kbz {

enum class VerifyMode { ChecksOnly, WithFailover };  // --failover runs the disruptive scenarios too

// The module's hosts, every check regex, scenario kind and command rendered: input errors (exit 2).
Result<std::vector<Host>> prepare_verify(Run& run, const Module& module);

struct VerifyOutcome {
  VerifyRun run;
  ReportStatus status = ReportStatus::Failed;
  std::string report_path;            // absolute (as written)
  std::string archive_path;           // relative to the workdir; "" when it could not be written
  std::vector<std::string> warnings;  // report/state/archive write problems, for stderr
};

VerifyOutcome verify_module(Run& run, const Module& module, const std::vector<Host>& hosts, VerifyMode mode);

// SUIVI_INSTALLATION_V2.md from the recorded runs, written to the workdir; returns its text. `modules` give
// the titles and which modules this binary has.
Result<std::string> write_suivi(const GlobalOptions& options, const std::vector<Module>& modules);

}  // namespace kbz
