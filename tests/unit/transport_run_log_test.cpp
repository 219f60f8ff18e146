// The run log: file name, one line per event, masked, flushed without closing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/transport/exec_log.hpp"

namespace kbz {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(TransportRunLog, WritesMaskedFlushedLines) {
  const auto workdir = std::filesystem::temp_directory_path() / ("kbz-runlog-" + std::to_string(::getpid()));
  std::filesystem::remove_all(workdir);
  Secret secret("hunter2-hunter2");
  auto path = open_run_log(workdir, "apply");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_TRUE(std::regex_match(path->filename().string(), std::regex("[0-9]{8}T[0-9]{6}Z-apply\\.log")));
  Host h;
  h.hostname = "redis-01";
  h.address = "10.0.0.123";
  Result<ExecResult> ok = ExecResult{0, "password=hunter2-hunter2\n", "warn\n", Millis(12)};
  log_exec(h, "redis-cli ping", ok);
  Result<ExecResult> bad = fail(ErrorKind::Timeout, "redis-01 (10.0.0.123): command timed out after 1 s");
  log_exec(h, "sleep 5", bad);
  run_log()->info("token hunter2-hunter2 in a free-form line");
  // Not closed yet: a crash now must still leave every line on disk.
  const std::string text = read_text(*path);
  EXPECT_NE(text.find("redis-01 (10.0.0.123): `redis-cli ping` exit 0 in 12 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("password=***"), std::string::npos) << text;
  EXPECT_NE(text.find("timeout: redis-01 (10.0.0.123): command timed out"), std::string::npos) << text;
  EXPECT_NE(text.find("token *** in a free-form line"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2-hunter2"), std::string::npos) << text;
  // Same second, same command: a second file, not an overwrite.
  auto second = open_run_log(workdir, "apply");
  ASSERT_TRUE(second);
  EXPECT_NE(*second, *path);
  close_run_log();
  run_log()->info("discarded after close");
  Masker::global().clear();
  std::filesystem::remove_all(workdir);
}

}  // namespace
}  // namespace kbz
