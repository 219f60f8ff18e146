// Live apply output with hosts in parallel: one line per step per host as it finishes
// (`host  step-id  changed: why`), and every 10 s a "still running" line for anything that takes long.
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "kbz/engine/engine.hpp"

namespace kbz {

class RunProgress : public RunObserver {
 public:
  // `live` false: record nothing on screen (plan, --json); the ticker still does not run.
  enum class Live { Lines, Quiet };
  RunProgress(std::ostream& out, Live live, size_t host_width,
              std::chrono::seconds tick = std::chrono::seconds(10));
  ~RunProgress() override;
  void activity(const Host& host, const std::string& label) override;
  void step_finished(const Host& host, const StepResult& result) override;
  void host_error(const Host& host, const std::string& text) override;
  void host_line(const std::string& host, const std::string& text);  // connection errors and the like

 private:
  void tick_loop();
  std::ostream& out_;
  bool live_;
  size_t width_;
  std::chrono::seconds tick_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>>
      running_;  // host -> (label, since)
  std::thread ticker_;
};

}  // namespace kbz
