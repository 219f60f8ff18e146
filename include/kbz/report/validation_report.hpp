// RAPPORT_VALIDATION_MODULE<N>.md: the French validation report the ops team reads, rendered from a
// VerifyRun. It states exactly what was run (date, inventory, version, hosts, commands) and never more: a
// check without a result is "non exécuté", an unreachable host fails every one of its checks ("injoignable").
#pragma once
#include <string>
#include <vector>

#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"

namespace kbz {

// A credentials/<file>.env file as found on the installer (path and mode, never a value).
struct CredentialFileState {
  std::string path;               // e.g. credentials/redis.env
  std::string mode;               // "0600", or "absent"
  std::vector<std::string> keys;  // key names declared by the module
};

struct ReportContext {
  std::string generated_utc;        // ISO 8601, when the report is written
  std::string version;              // kbz-install version
  std::string command_line;         // what the operator ran, e.g. "kbz-install verify --module 2"
  bool failover_requested = false;  // --failover given
  std::vector<CredentialFileState> credentials;
  int next_module = 0;  // 0 = last module
  std::string next_module_title;
  std::string archive_path;  // logs/archive/<UTC>-module<N>.tar.gz: where this run's logs and report are kept
};

// PartlyValidated: nothing failed, but some checks could not be tested here (lab: "non testé dans le lab").
enum class ReportStatus { Validated, ValidatedWithWarnings, PartlyValidated, Failed };

// Failed when any check or scenario failed or a host was unreachable; warnings only -> ValidatedWithWarnings.
ReportStatus report_status(const VerifyRun& run);
std::string status_label(
    ReportStatus status);  // "✅ VALIDÉ", "⚠️ VALIDÉ AVEC AVERTISSEMENTS", "❌ ÉCHEC"

std::string validation_report_file_name(int module);  // RAPPORT_VALIDATION_MODULE2.md (no leading zero)

// The whole Markdown text, already passed through kbz::mask().
std::string render_validation_report(const Module& module, const VerifyRun& run,
                                     const ReportContext& context);

}  // namespace kbz
