#include "verify_json.hpp"

#include "kbz/core/secret.hpp"

namespace kbz {
namespace {

const char* word(CheckStatus s) {
  switch (s) {
    case CheckStatus::Pass:
      return "pass";
    case CheckStatus::Fail:
      return "fail";
    case CheckStatus::Warn:
      return "warn";
    case CheckStatus::Skipped:
      return "skipped";
    case CheckStatus::NotTested:
      return "not_tested";
  }
  return "?";
}

const char* word(ReportStatus s) {
  switch (s) {
    case ReportStatus::Validated:
      return "validated";
    case ReportStatus::PartlyValidated:
      return "partly_validated";
    case ReportStatus::ValidatedWithWarnings:
      return "validated_with_warnings";
    case ReportStatus::Failed:
      return "failed";
  }
  return "?";
}

}  // namespace

nlohmann::json verify_to_json(const VerifyRun& run, ReportStatus status, const std::string& report_path) {
  nlohmann::json j;
  j["module"] = run.module;
  j["status"] = word(status);
  j["report"] = report_path;
  j["started_utc"] = run.started_utc;
  j["duration_ms"] = run.duration.count();
  j["hosts"] = nlohmann::json::array();
  for (const auto& h : run.hosts) {
    const CheckTally t = run.tally_for_host(h);
    nlohmann::json host{{"host", h},      {"pass", t.pass},       {"fail", t.fail},
                        {"warn", t.warn}, {"skipped", t.skipped}, {"not_tested", t.not_tested}};
    for (const auto& u : run.unreachable)
      if (u.starts_with(h + ": ")) host["unreachable"] = mask(u.substr(h.size() + 2));
    j["hosts"].push_back(std::move(host));
  }
  j["checks"] = nlohmann::json::array();
  for (const auto& c : run.checks)
    j["checks"].push_back({{"id", c.check_id},
                           {"host", c.host},
                           {"status", word(c.status)},
                           {"value", mask(c.value)},
                           {"detail", mask(c.detail)},
                           {"duration_ms", c.duration.count()}});
  j["failovers"] = nlohmann::json::array();
  for (const auto& f : run.failovers) {
    nlohmann::json measures = nlohmann::json::object();
    for (const auto& [label, value] : f.measures) measures[label] = mask(value);
    j["failovers"].push_back({{"id", f.scenario_id},
                              {"status", word(f.status)},
                              {"detail", mask(f.detail)},
                              {"measures", measures}});
  }
  j["versions_found"] = run.versions_found;
  return j;
}

}  // namespace kbz
