// What plan/apply/verify produce: the console, the run state, the report and SUIVI all read these.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "kbz/transport/connection.hpp"

namespace kbz {

enum class StepStatus { Ok, Changed, WouldChange, Failed, Skipped };

const char* status_word(StepStatus s);  // "ok", "changed", "would change", "failed", "skipped"

struct StepResult {
  std::string step_id;
  StepStatus status = StepStatus::Skipped;
  std::string message;  // why it failed / what changed (masked)
  std::string diff;     // unified diff for files in plan (masked)
  Millis duration{0};
};

struct HostRun {
  Host host;
  std::vector<StepResult> steps;
  bool unreachable = false;
  std::string error;                        // host-level error: connection, host lock, re-check (masked)
  std::vector<std::string> cleanup_errors;  // after the host's work: lock release (masked)
  // Converge checks (module `converge:`) gathered with the first checks: id -> passed already.
  std::map<std::string, bool> converge_at_start;
  bool changed_anything = false;  // a step or handler changed the host in this run
  std::string preflight_failed;   // apply: the failed preflight checks ("" = none), also when skipped
  Millis duration{0};
  TransportStats stats;
  int count(StepStatus s) const;
  // What the recap names: the host-level error, else the first failed step as "step: why"; "" = none.
  std::string first_failure() const;
};

enum class RunKind { Plan, Apply, Verify };

struct RunSummary {
  RunKind kind = RunKind::Apply;
  int module = 0;
  std::string started_utc;  // ISO 8601
  Millis duration{0};
  bool interrupted = false;
  std::vector<HostRun> hosts;
  std::vector<std::string> warnings;  // for the operator (stderr), e.g. a stale workdir lock taken over
  bool ok() const;
};

// NotTested: the software cannot run where this ran (the lab has no MinIO, ProxySQL, kubeadm): said plainly,
// never a pass.
enum class CheckStatus { Pass, Fail, Warn, Skipped, NotTested };

// Counts of check outcomes (per host, per check, in total): the console, the report and --json agree.
struct CheckTally {
  int pass = 0, fail = 0, warn = 0, skipped = 0, not_tested = 0;
  void add(CheckStatus s);
  int total() const { return pass + fail + warn + skipped + not_tested; }
};

struct CheckResult {
  std::string check_id;
  std::string host;
  CheckStatus status = CheckStatus::Skipped;
  std::string value;   // measured value (masked)
  std::string detail;  // why it failed (masked)
  Millis duration{0};
};

struct FailoverResult {
  std::string scenario_id;
  std::string title_fr;
  CheckStatus status = CheckStatus::Skipped;
  std::vector<std::pair<std::string, std::string>> measures;  // label -> value ("Temps de bascule", "6.2 s")
  std::string detail;
};

struct VerifyRun {
  int module = 0;
  std::string started_utc;
  Millis duration{0};
  std::string inventory_path;
  std::vector<std::string> hosts;
  std::vector<std::string> unreachable;                                      // host: reason
  std::map<std::string, std::map<std::string, std::string>> versions_found;  // host -> component -> version
  std::vector<CheckResult> checks;
  std::vector<FailoverResult> failovers;
  std::map<std::string, Millis> host_durations;  // host -> time of its verify exec (checks run in one batch)
  bool ok() const;
  CheckTally tally_for_host(const std::string& host) const;
};

}  // namespace kbz
