// Live apply output: per-step lines, and the "still running" line for long steps.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

#include "cli/run_progress.hpp"
#include "kbz/core/secret.hpp"

using namespace kbz;

TEST(RunProgress, OneLinePerStepPerHostMasked) {
  std::ostringstream out;
  {
    RunProgress p(out, RunProgress::Live::Lines, 8, std::chrono::seconds(60));
    Host h;
    h.hostname = "web-01";
    Masker::global().add("hunter2-progress-secret");
    StepResult r;
    r.step_id = "app-conf";
    r.status = StepStatus::Failed;
    r.message = "bad hunter2-progress-secret";
    p.step_finished(h, r);
    r.step_id = "app-dir";
    r.status = StepStatus::Changed;
    r.message = "";
    p.step_finished(h, r);
  }
  EXPECT_EQ(out.str(), "web-01    app-conf  failed: bad ***\nweb-01    app-dir  changed\n");
}

TEST(RunProgress, StillRunningLineForLongSteps) {
  std::ostringstream out;
  {
    RunProgress p(out, RunProgress::Live::Lines, 6, std::chrono::seconds(1));
    Host h;
    h.hostname = "db-01";
    p.activity(h, "base-packages");
    std::this_thread::sleep_for(std::chrono::milliseconds(2300));
    p.activity(h, "");
  }
  // The seconds shown depend on when the ticker thread ran (a loaded CI box is late): any whole count >= 1.
  EXPECT_TRUE(
      std::regex_search(out.str(), std::regex("still running: base-packages on db-01 \\([1-9][0-9]* s\\)\n")))
      << out.str();
}
