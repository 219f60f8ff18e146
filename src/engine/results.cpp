#include "kbz/engine/results.hpp"

#include <algorithm>

namespace kbz {

int HostRun::count(StepStatus s) const {
  return static_cast<int>(
      std::count_if(steps.begin(), steps.end(), [s](const StepResult& r) { return r.status == s; }));
}

const char* status_word(StepStatus s) {
  switch (s) {
    case StepStatus::Ok:
      return "ok";
    case StepStatus::Changed:
      return "changed";
    case StepStatus::WouldChange:
      return "would change";
    case StepStatus::Failed:
      return "failed";
    case StepStatus::Skipped:
      return "skipped";
  }
  return "?";
}

std::string HostRun::first_failure() const {
  if (!error.empty()) return error;
  for (const auto& s : steps)
    if (s.status == StepStatus::Failed) return s.step_id + ": " + s.message;
  return {};
}

bool RunSummary::ok() const {
  if (interrupted) return false;
  return std::none_of(hosts.begin(), hosts.end(), [](const HostRun& h) {
    // A host lock left behind would refuse the next run on that host: a failure too.
    return h.unreachable || !h.error.empty() || !h.cleanup_errors.empty() || h.count(StepStatus::Failed) > 0;
  });
}

bool VerifyRun::ok() const {
  if (!unreachable.empty()) return false;
  const bool check_failed = std::any_of(checks.begin(), checks.end(),
                                        [](const CheckResult& c) { return c.status == CheckStatus::Fail; });
  const bool failover_failed = std::any_of(failovers.begin(), failovers.end(), [](const FailoverResult& f) {
    return f.status == CheckStatus::Fail;
  });
  return !check_failed && !failover_failed;
}

void CheckTally::add(CheckStatus s) {
  switch (s) {
    case CheckStatus::Pass:
      ++pass;
      break;
    case CheckStatus::Fail:
      ++fail;
      break;
    case CheckStatus::Warn:
      ++warn;
      break;
    case CheckStatus::Skipped:
      ++skipped;
      break;
    case CheckStatus::NotTested:
      ++not_tested;
      break;
  }
}

CheckTally VerifyRun::tally_for_host(const std::string& host) const {
  CheckTally t;
  for (const auto& c : checks)
    if (c.host == host) t.add(c.status);
  return t;
}

}  // namespace kbz
