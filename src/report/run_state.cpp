#include "kbz/report/run_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"

namespace kbz {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path state_path(const std::string& workdir) { return fs::path(workdir) / ".kbz" / "state.json"; }

json to_json(const RunRecord& r) {
  return json{{"kind", r.kind},
              {"module", r.module},
              {"started_utc", r.started_utc},
              {"duration_ms", r.duration_ms},
              {"status", r.status},
              {"hosts", r.hosts},
              {"hosts_failed", r.hosts_failed},
              {"changed", r.changed},
              {"failed_steps", r.failed_steps},
              {"checks_passed", r.checks_passed},
              {"checks_failed", r.checks_failed},
              {"checks_warned", r.checks_warned},
              {"problems", r.problems},
              {"report_path", r.report_path},
              {"log_path", r.log_path},
              {"archive_path", r.archive_path}};
}

RunRecord from_json(const json& j) {
  RunRecord r;
  r.kind = j.value("kind", "");
  r.module = j.value("module", 0);
  r.started_utc = j.value("started_utc", "");
  r.duration_ms = j.value("duration_ms", 0LL);
  r.status = j.value("status", "");
  r.hosts = j.value("hosts", 0);
  r.hosts_failed = j.value("hosts_failed", 0);
  r.changed = j.value("changed", 0);
  r.failed_steps = j.value("failed_steps", 0);
  r.checks_passed = j.value("checks_passed", 0);
  r.checks_failed = j.value("checks_failed", 0);
  r.checks_warned = j.value("checks_warned", 0);
  r.problems = j.value("problems", std::vector<std::string>{});
  r.report_path = j.value("report_path", "");
  r.log_path = j.value("log_path", "");
  r.archive_path = j.value("archive_path", "");
  return r;
}

}  // namespace

Result<std::vector<RunRecord>> load_runs(const std::string& workdir) {
  std::vector<RunRecord> runs;
  std::ifstream in(state_path(workdir));
  if (!in) return runs;  // no run recorded yet
  std::stringstream buf;
  buf << in.rdbuf();
  const json j = json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.contains("runs"))
    return fail(ErrorKind::Input,
                fmt::format("{}: not a kbz-install state file", state_path(workdir).string()));
  for (const auto& r : j["runs"]) runs.push_back(from_json(r));
  return runs;
}

Result<void> record_run(const std::string& workdir, const RunRecord& record) {
  auto runs = load_runs(workdir);
  if (!runs) return std::unexpected(runs.error());
  runs->push_back(record);
  json j{{"version", 1}, {"runs", json::array()}};
  for (const auto& r : *runs) j["runs"].push_back(to_json(r));

  return write_file_atomic(state_path(workdir).string(), mask(j.dump(2)) + "\n", 0600);
}

RunRecord to_record(const RunSummary& run) {
  RunRecord r;
  r.kind = run.kind == RunKind::Plan ? "plan" : run.kind == RunKind::Apply ? "apply" : "verify";
  r.module = run.module;
  r.started_utc = run.started_utc;
  r.duration_ms = run.duration.count();
  r.status = run.interrupted ? "interrupted" : run.ok() ? "ok" : "failed";
  r.hosts = static_cast<int>(run.hosts.size());
  for (const auto& h : run.hosts) {
    const int failed = h.count(StepStatus::Failed);
    if (failed > 0 || h.unreachable || !h.error.empty() || !h.cleanup_errors.empty()) ++r.hosts_failed;
    r.changed += h.count(StepStatus::Changed);
    r.failed_steps += failed;
    if (!h.error.empty()) r.problems.push_back(mask(fmt::format("{}: {}", h.host.hostname, h.error)));
    for (const auto& e : h.cleanup_errors)
      r.problems.push_back(mask(fmt::format("{}: {}", h.host.hostname, e)));
    for (const auto& s : h.steps)
      if (s.status == StepStatus::Failed)
        r.problems.push_back(mask(fmt::format("{}: étape {}: {}", h.host.hostname, s.step_id, s.message)));
  }
  return r;
}

RunRecord to_record(const VerifyRun& run, const std::string& report_path) {
  RunRecord r;
  r.kind = "verify";
  r.module = run.module;
  r.started_utc = run.started_utc;
  r.duration_ms = run.duration.count();
  r.status = run.ok() ? "ok" : "failed";
  r.hosts = static_cast<int>(run.hosts.size());
  r.report_path = report_path;
  // Unreachable hosts first and once each: SUIVI shows the first problems, and a host that is down must not
  // drown among (or be hidden behind) its own per-check failures.
  std::vector<std::string> down;
  for (const auto& u : run.unreachable) {
    r.problems.push_back(
        mask(u.find(": ") == std::string::npos
                 ? u
                 : u.substr(0, u.find(": ")) + ": injoignable (" + u.substr(u.find(": ") + 2) + ")"));
    down.push_back(u.substr(0, u.find(": ")));
  }
  std::set<std::string> failed_hosts(down.begin(), down.end());
  for (const auto& c : run.checks) {
    if (c.status == CheckStatus::Pass) ++r.checks_passed;
    if (c.status == CheckStatus::Warn) ++r.checks_warned;
    if (c.status == CheckStatus::Fail) {
      ++r.checks_failed;
      const bool host_down = std::find(down.begin(), down.end(), c.host) != down.end();
      if (!host_down) {
        failed_hosts.insert(c.host);
        r.problems.push_back(mask(fmt::format("{}: {}: {}", c.host, c.check_id, c.detail)));
      }
    }
  }
  for (const auto& f : run.failovers) {
    if (f.status == CheckStatus::Pass) ++r.checks_passed;
    if (f.status == CheckStatus::Warn) ++r.checks_warned;
    if (f.status == CheckStatus::Fail) {
      ++r.checks_failed;
      r.problems.push_back(mask(fmt::format("bascule {}: {}", f.scenario_id, f.detail)));
    }
  }
  r.hosts_failed = static_cast<int>(failed_hosts.size());
  return r;
}

}  // namespace kbz
