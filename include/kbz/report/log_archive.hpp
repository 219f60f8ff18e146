// One archive per module run (the seed's "archiver les logs"): the module's last apply log, its verify log,
// its report and SUIVI_INSTALLATION_V2.md at that time, as logs/archive/<UTC>-module<N>.tar.gz. Written with
// libarchive. Everything in it is already masked (run logs mask in their sink, reports and SUIVI are masked
// when rendered); credentials/ never goes in.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"

namespace kbz {

// The archive's path for a run that started at `started_utc` ("2026-11-27T22:01:28Z"), relative to the
// workdir.
std::string archive_relative_path(int module, const std::string& started_utc);

// Writes `files` (paths relative to `workdir`; missing ones are skipped and listed in MANIFEST.txt) into
// workdir/relative, atomically (temp file + rename). Refuses anything under credentials/.
Result<void> write_log_archive(const std::filesystem::path& workdir, const std::string& relative,
                               const std::vector<std::string>& files);

}  // namespace kbz
