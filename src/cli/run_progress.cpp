#include "run_progress.hpp"

#include <fmt/format.h>

#include "kbz/core/secret.hpp"

namespace kbz {

RunProgress::RunProgress(std::ostream& out, Live live, size_t host_width, std::chrono::seconds tick)
    : out_(out), live_(live == Live::Lines), width_(host_width), tick_(tick) {
  if (live_) ticker_ = std::thread([this] { tick_loop(); });
}

RunProgress::~RunProgress() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void RunProgress::activity(const Host& host, const std::string& label) {
  std::lock_guard lock(mutex_);
  if (label.empty())
    running_.erase(host.hostname);
  else
    running_[host.hostname] = {label, std::chrono::steady_clock::now()};
}

void RunProgress::step_finished(const Host& host, const StepResult& r) {
  if (!live_) return;
  std::string line = fmt::format("{:<{}}  {}  {}", host.hostname, width_, r.step_id, status_word(r.status));
  if (!r.message.empty()) line += ": " + r.message;
  std::lock_guard lock(mutex_);
  out_ << mask(line) << '\n' << std::flush;
}

void RunProgress::host_error(const Host& host, const std::string& text) { host_line(host.hostname, text); }

void RunProgress::host_line(const std::string& host, const std::string& text) {
  if (!live_) return;
  std::lock_guard lock(mutex_);
  out_ << mask(fmt::format("{:<{}}  {}", host, width_, text)) << '\n' << std::flush;
}

void RunProgress::tick_loop() {
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, tick_, [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [host, what] : running_) {
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - what.second).count();
      if (secs >= tick_.count())
        out_ << fmt::format("still running: {} on {} ({} s)\n", what.first, host, secs);
    }
    out_ << std::flush;
  }
}

}  // namespace kbz
