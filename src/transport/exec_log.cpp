#include "kbz/transport/exec_log.hpp"

#include "kbz/core/run_log.hpp"

namespace kbz {
namespace {

// Long outputs stay readable in the log; the full text is on the console or in --json.
std::string clip(const std::string& s) {
  constexpr size_t kMax = 64 * 1024;
  if (s.size() <= kMax) return s;
  return s.substr(0, kMax) + "\n[... " + std::to_string(s.size() - kMax) + " more bytes not logged]";
}

}  // namespace

void log_exec(const Host& host, std::string_view command, const Result<ExecResult>& result) {
  auto log = run_log();
  if (!result) {
    log->error("{} ({}): `{}` failed: {}: {}", host.hostname, host.address, command,
               to_string(result.error().kind), result.error().message);
    return;
  }
  const auto& r = *result;
  log->info("{} ({}): `{}` exit {} in {} ms", host.hostname, host.address, command, r.exit_status,
            r.duration.count());
  if (!r.out.empty()) log->debug("{} stdout:\n{}", host.hostname, clip(r.out));
  if (!r.err.empty()) log->debug("{} stderr:\n{}", host.hostname, clip(r.err));
}

void log_exec(const Host& host, const ExecRequest& request, const Result<ExecResult>& result) {
  log_exec(host, request.command, result);
  if (request.stdin_data.empty()) return;
  if (request.command.starts_with("sh -s"))
    run_log()->debug("{} script:\n{}", host.hostname, clip(request.stdin_data));
  else
    run_log()->debug("{} stdin: {} bytes (not logged)", host.hostname, request.stdin_data.size());
}

void log_connect(const Host& host, const Result<void>& outcome, Millis took) {
  if (outcome)
    run_log()->info("{} ({}): connected in {} ms", host.hostname, host.address, took.count());
  else
    run_log()->error("{} ({}): no session: {}: {}", host.hostname, host.address,
                     to_string(outcome.error().kind), outcome.error().message);
}

void log_upload(const Host& host, const UploadRequest& request, const Result<UploadOutcome>& outcome) {
  if (!outcome) {
    run_log()->error("{}: upload {} -> {} failed: {}", host.hostname, request.local.string(),
                     request.remote_path, outcome.error().message);
    return;
  }
  run_log()->info("{}: upload {} -> {}: {}", host.hostname, request.local.string(), request.remote_path,
                  *outcome == UploadOutcome::Uploaded ? "sent" : "unchanged (same sha256)");
}

}  // namespace kbz
