#include "kbz/core/run_log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include "kbz/core/secret.hpp"

namespace kbz {
namespace {

// Masks the payload, then hands the line to the file sink.
class MaskingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit MaskingFileSink(const std::string& path) : file_(path, /*truncate=*/false) {
    file_.set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                                    spdlog::pattern_time_type::utc));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string masked = mask(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = masked;
    file_.log(copy);
    file_.flush();
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::sinks::basic_file_sink_st file_;
};

std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;

std::shared_ptr<spdlog::logger> null_logger() {
  static auto logger =
      std::make_shared<spdlog::logger>("kbz-null", std::make_shared<spdlog::sinks::null_sink_mt>());
  return logger;
}

std::string utc_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Long outputs stay readable in the log; the full text is on the console or in --json.
std::string clip(const std::string& s) {
  constexpr size_t kMax = 64 * 1024;
  if (s.size() <= kMax) return s;
  return s.substr(0, kMax) + "\n[... " + std::to_string(s.size() - kMax) + " more bytes not logged]";
}

}  // namespace

Result<std::filesystem::path> open_run_log(const std::filesystem::path& workdir,
                                           std::string_view command_name) {
  std::error_code ec;
  const auto dir = workdir / "logs";
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::Io, "cannot create " + dir.string() + ": " + ec.message());
  const std::string base = utc_stamp() + "-" + std::string(command_name);
  auto path = dir / (base + ".log");
  for (int n = 2; std::filesystem::exists(path, ec); ++n)
    path = dir / (base + "-" + std::to_string(n) + ".log");
  try {
    auto logger =
        std::make_shared<spdlog::logger>("kbz-run", std::make_shared<MaskingFileSink>(path.string()));
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::trace);
    std::lock_guard lock(g_mutex);
    g_logger = std::move(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return fail(ErrorKind::Io, "cannot write " + path.string() + ": " + e.what());
  }
  return path;
}

std::shared_ptr<spdlog::logger> run_log() {
  std::lock_guard lock(g_mutex);
  return g_logger ? g_logger : null_logger();
}

void close_run_log() {
  std::lock_guard lock(g_mutex);
  if (g_logger) g_logger->flush();
  g_logger.reset();
}

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
