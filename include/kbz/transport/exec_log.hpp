// What the transport writes to the run log (kbz/core/run_log.hpp): every connection, exec and upload of
// every command, masked by the log's sink.
#pragma once
#include <string_view>

#include "kbz/core/error.hpp"
#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

// One exec, fully: host, command, duration, exit status, stdout and stderr (or the error).
void log_exec(const Host& host, std::string_view command, const Result<ExecResult>& result);
// The same for a request; a script sent on stdin to `sh -s` (check batches, converge polls) is logged too,
// other stdin (file contents) only by its size. The transport logs every exec this way.
void log_exec(const Host& host, const ExecRequest& request, const Result<ExecResult>& result);
// Connections and uploads, for the same log.
void log_connect(const Host& host, const Result<void>& outcome, Millis took);
void log_upload(const Host& host, const UploadRequest& request, const Result<UploadOutcome>& outcome);

}  // namespace kbz
