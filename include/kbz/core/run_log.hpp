// The per-run log: <workdir>/logs/<UTC timestamp>-<command>.log, one line per event, flushed on every line so
// a crash or Ctrl-C still leaves a complete file. Every line goes through kbz::mask() in the sink itself, so
// no caller can forget it.
#pragma once
#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "kbz/core/error.hpp"
#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

// Creates logs/ if needed and makes the file the process's run log. Returns its path.
Result<std::filesystem::path> open_run_log(const std::filesystem::path& workdir,
                                           std::string_view command_name);

// The run log; before open_run_log() (unit tests, library use) it discards everything.
std::shared_ptr<spdlog::logger> run_log();

void close_run_log();

// One exec, fully: host, command, duration, exit status, stdout and stderr (or the error).
void log_exec(const Host& host, std::string_view command, const Result<ExecResult>& result);
// The same for a request; a script sent on stdin to `sh -s` (check batches, converge polls) is logged too,
// other stdin (file contents) only by its size. The transport logs every exec this way.
void log_exec(const Host& host, const ExecRequest& request, const Result<ExecResult>& result);
// Connections and uploads, for the same log.
void log_connect(const Host& host, const Result<void>& outcome, Millis took);
void log_upload(const Host& host, const UploadRequest& request, const Result<UploadOutcome>& outcome);

}  // namespace kbz
