// `verify --json`: the same results as the French report, for scripts and CI (English keys, masked values).
// Private to src/cli.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "kbz/engine/results.hpp"
#include "kbz/report/validation_report.hpp"

namespace kbz {
nlohmann::json verify_to_json(const VerifyRun& run, ReportStatus status, const std::string& report_path);
}  // namespace kbz
