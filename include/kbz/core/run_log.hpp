// The per-run log: <workdir>/logs/<UTC timestamp>-<command>.log, one line per event, flushed on every line so
// a crash or Ctrl-C still leaves a complete file. Every line goes through kbz::mask() in the sink itself, so
// no caller can forget it.
#pragma once
#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "kbz/core/error.hpp"

namespace kbz {

// Creates logs/ if needed and makes the file the process's run log. Returns its path.
Result<std::filesystem::path> open_run_log(const std::filesystem::path& workdir,
                                           std::string_view command_name);

// The run log; before open_run_log() (unit tests, library use) it discards everything.
std::shared_ptr<spdlog::logger> run_log();

void close_run_log();

}  // namespace kbz
