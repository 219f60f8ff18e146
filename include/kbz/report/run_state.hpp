// Machine-readable record of every plan/apply/verify run in the working folder (<workdir>/.kbz/state.json).
// SUIVI_INSTALLATION_V2.md is rendered from it; so is the "Prochaines étapes" of each report.
#pragma once
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/results.hpp"

namespace kbz {

struct RunRecord {
  std::string kind;  // plan | apply | verify
  int module = 0;
  std::string started_utc;
  long long duration_ms = 0;
  std::string status;  // ok | failed | interrupted
  int hosts = 0, hosts_failed = 0, changed = 0, failed_steps = 0;
  int checks_passed = 0, checks_failed = 0, checks_warned = 0;
  std::vector<std::string> problems;  // masked one-liners: "redis-01: step docker-running: ..."
  std::string report_path;            // verify only
  std::string log_path;               // logs/<UTC>-<command>.log of this run (relative to the workdir)
  std::string archive_path;           // verify only: logs/archive/<UTC>-module<N>.tar.gz
};

// Appends atomically (temp file + rename; the file is never half-written).
Result<void> record_run(const std::string& workdir, const RunRecord& record);
Result<std::vector<RunRecord>> load_runs(const std::string& workdir);
RunRecord to_record(const RunSummary& run);
RunRecord to_record(const VerifyRun& run, const std::string& report_path);

}  // namespace kbz
