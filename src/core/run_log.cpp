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

}  // namespace kbz
