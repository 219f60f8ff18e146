// The rolling coordinator alone: one thread per host, as in a run. Every wait is bounded: a deadlock fails
// the test (then Ctrl-C is simulated so the stuck threads wake up and the test process can end).
#include "kbz/engine/rolling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kbz/core/interrupt.hpp"

using namespace kbz;
using namespace std::chrono_literals;
using Outcome = RollingTurn::Outcome;

namespace {

Module rolling_module() {
  Module m;
  Step plain;
  plain.id = "conf";
  Step app;
  app.id = "app";
  app.rolling = RollingSpec{};  // the coordinator only reads the ids and which steps roll
  m.steps = {plain, app};
  return m;
}

struct Events {
  std::mutex mutex;
  std::vector<std::string> list;
  void add(const std::string& e) {
    std::lock_guard l(mutex);
    list.push_back(e);
  }
};

std::string describe(const std::string& host, const RollingTurn& t) {
  if (t.outcome == Outcome::Interrupted) return host + " interrupted";
  if (t.outcome == Outcome::Stopped) return host + " stopped: " + t.why;
  return host + " go " + std::to_string(t.position) + "/" + std::to_string(t.total) +
         (t.primary ? " primary" : "") + (t.after.empty() ? "" : " after " + t.after);
}

// Waits for every future; false if one is still blocked after `limit` (then wakes everything with Ctrl-C).
template <typename T>
bool all_end(std::vector<std::future<T>>& futures, std::chrono::seconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool ok = true;
  for (auto& f : futures)
    if (f.wait_until(deadline) != std::future_status::ready) ok = false;
  if (!ok) {
    install_interrupt_handler();
    std::raise(SIGINT);
    for (auto& f : futures) f.wait();
    reset_interrupted();
  }
  return ok;
}

TEST(Rolling, ReplicasInInventoryOrderThenThePrimaryOneAtATimeOnceEveryoneArrived) {
  RollingCoordinator c(rolling_module(), {"r1", "r2", "r3", "r4"});
  Events ev;
  std::atomic<int> inside{0}, most{0};
  auto host = [&](const std::string& h) {
    const auto t = c.wait_turn("app", h, [&]() -> Result<bool> {
      ev.add("ask " + h);
      return h == "r1";  // r1 is the master: first in the inventory, yet last to go
    });
    ev.add(describe(h, t));
    if (t.outcome != Outcome::Go) return;
    most = std::max(most.load(), ++inside);
    std::this_thread::sleep_for(50ms);  // "the change"
    --inside;
    c.done("app", h, RollingCoordinator::Change::Done);
  };
  std::vector<std::future<void>> hosts;
  // Arrivals in reverse inventory order; r4 has nothing to roll and comes late.
  for (const char* h : {"r3", "r2", "r1"}) {
    hosts.push_back(std::async(std::launch::async, host, std::string(h)));
    std::this_thread::sleep_for(30ms);
  }
  std::this_thread::sleep_for(300ms);
  ev.add("r4 leaves");
  c.leave("app", "r4");
  ASSERT_TRUE(all_end(hosts));
  EXPECT_EQ(most.load(), 1) << "one host at a time";
  ASSERT_EQ(ev.list.size(), 7u);
  EXPECT_EQ(ev.list[0], "r4 leaves") << "nobody is asked or goes before every participant arrived or left";
  std::set<std::string> asked(ev.list.begin() + 1, ev.list.begin() + 4);
  EXPECT_EQ(asked, (std::set<std::string>{"ask r1", "ask r2", "ask r3"}));
  EXPECT_EQ(std::vector<std::string>(ev.list.begin() + 4, ev.list.end()),
            (std::vector<std::string>{"r2 go 1/3", "r3 go 2/3 after r2", "r1 go 3/3 primary after r3"}));
}

TEST(Rolling, AFailedChangeStopsTheHostsStillWaiting) {
  RollingCoordinator c(rolling_module(), {"r1", "r2", "r3"});
  Events ev;
  auto host = [&](const std::string& h) {
    const auto t = c.wait_turn("app", h, [&]() -> Result<bool> { return h == "r1"; });
    ev.add(describe(h, t));
    if (t.outcome == Outcome::Go)
      c.done("app", h, h != "r2" ? RollingCoordinator::Change::Done : RollingCoordinator::Change::Failed);
  };
  std::vector<std::future<void>> hosts;
  for (const char* h : {"r1", "r2", "r3"})
    hosts.push_back(std::async(std::launch::async, host, std::string(h)));
  ASSERT_TRUE(all_end(hosts));
  std::sort(ev.list.begin(), ev.list.end());
  EXPECT_EQ(ev.list, (std::vector<std::string>{"r1 stopped: rolling stopped: r2 failed at app", "r2 go 1/3",
                                               "r3 stopped: rolling stopped: r2 failed at app"}));
}

TEST(Rolling, APrimaryCheckThatCannotRunStopsTheRolling) {
  RollingCoordinator c(rolling_module(), {"r1", "r2"});
  Events ev;
  auto host = [&](const std::string& h) {
    const auto t = c.wait_turn("app", h, [&]() -> Result<bool> {
      if (h == "r2") return fail(ErrorKind::Connect, "connection lost");
      std::this_thread::sleep_for(100ms);
      return true;
    });
    ev.add(describe(h, t));
    if (t.outcome == Outcome::Go) c.done("app", h, RollingCoordinator::Change::Done);
  };
  std::vector<std::future<void>> hosts;
  for (const char* h : {"r1", "r2"}) hosts.push_back(std::async(std::launch::async, host, std::string(h)));
  ASSERT_TRUE(all_end(hosts));
  std::sort(ev.list.begin(), ev.list.end());
  EXPECT_EQ(ev.list, (std::vector<std::string>{"r1 stopped: rolling stopped: r2 failed at app",
                                               "r2 stopped: rolling.primary_check: connection lost"}));
}

TEST(Rolling, LeavingWhileHoldingTheTurnCountsAsAFailure) {
  RollingCoordinator c(rolling_module(), {"r1", "r2"});
  auto second = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(50ms);
    return c.wait_turn("app", "r2", [] { return Result<bool>(false); });
  });
  const auto first = c.wait_turn("app", "r1", [] { return Result<bool>(false); });
  ASSERT_EQ(first.outcome, Outcome::Go);
  { RollingLeave gone(&c, "r1"); }  // r1's worker ends without done(): its change may be half made
  std::vector<std::future<RollingTurn>> f;
  f.push_back(std::move(second));
  ASSERT_TRUE(all_end(f));
  const auto t = f[0].get();
  EXPECT_EQ(t.outcome, Outcome::Stopped);
  EXPECT_EQ(t.why, "rolling stopped: r1 failed at app");
}

TEST(Rolling, HostsThatDropOutOrNeverComeDoNotBlockTheOthers) {
  RollingCoordinator c(rolling_module(), {"r1", "r2", "r3", "r4"});
  std::vector<std::future<RollingTurn>> rolling;
  for (const char* h : {"r1", "r2"})
    rolling.push_back(std::async(std::launch::async, [&c, h] {
      auto t = c.wait_turn("app", h, [] { return Result<bool>(false); });
      if (t.outcome == Outcome::Go) c.done("app", h, RollingCoordinator::Change::Done);
      return t;
    }));
  std::this_thread::sleep_for(200ms);
  { RollingLeave unreachable(&c, "r3"); }  // connect failed: its worker never ran
  c.leave_all("r4");                       // an earlier step failed
  c.leave_all("r4");                       // idempotent
  ASSERT_TRUE(all_end(rolling));
  EXPECT_EQ(describe("r1", rolling[0].get()), "r1 go 1/2");
  EXPECT_EQ(describe("r2", rolling[1].get()), "r2 go 2/2 after r1");
}

TEST(Rolling, CtrlCWakesAWaitingHost) {
  install_interrupt_handler();
  RollingCoordinator c(rolling_module(), {"r1", "r2"});  // r2 never comes
  auto waiting = std::async(std::launch::async,
                            [&] { return c.wait_turn("app", "r1", [] { return Result<bool>(false); }); });
  ASSERT_EQ(waiting.wait_for(300ms), std::future_status::timeout) << "r1 waits for r2";
  std::raise(SIGINT);  // the first Ctrl-C only sets the flag
  const auto status = waiting.wait_for(5s);
  reset_interrupted();
  ASSERT_EQ(status, std::future_status::ready);
  EXPECT_EQ(waiting.get().outcome, Outcome::Interrupted);
}

TEST(Rolling, AHostOutsideTheRunOrAStepThatDoesNotRollNeverWaits) {
  RollingCoordinator c(rolling_module(), {"r1", "r2"});
  EXPECT_EQ(c.wait_turn("app", "r9", [] { return Result<bool>(false); }).outcome, Outcome::Stopped);
  EXPECT_EQ(c.wait_turn("conf", "r1", [] { return Result<bool>(false); }).outcome, Outcome::Stopped);
  EXPECT_TRUE(has_rolling_step(rolling_module()));
  EXPECT_FALSE(has_rolling_step(Module{}));
}

}  // namespace

// rolling.rank (e.g. a Galera node's recovered position): the highest rank goes first, ties in inventory
// order, primaries still last; every host told to go sees the ranks of all the hosts that roll.
TEST(Rolling, HighestRankFirstTiesInInventoryOrderRanksGivenToEachTurn) {
  RollingCoordinator c(rolling_module(), {"r1", "r2", "r3", "r4"});
  const std::map<std::string, long long> rank = {{"r1", 5}, {"r2", 9}, {"r3", 5}, {"r4", 100}};
  Events ev;
  auto host = [&](const std::string& h) {
    const auto t = c.wait_turn_ranked("app", h, [&]() -> Result<RollingPlace> {
      return RollingPlace{h == "r4", rank.at(h)};  // r4: primary, goes last whatever its rank
    });
    ev.add(describe(h, t) + " ranks " + t.ranks);
    if (t.outcome == Outcome::Go) c.done("app", h, RollingCoordinator::Change::Done);
  };
  std::vector<std::future<void>> fs;
  for (const auto* h : {"r1", "r2", "r3", "r4"}) fs.push_back(std::async(std::launch::async, host, h));
  ASSERT_TRUE(all_end(fs));
  const std::string ranks = " ranks r1=5 r2=9 r3=5 r4=100";
  EXPECT_EQ(ev.list,
            (std::vector<std::string>{"r2 go 1/4" + ranks, "r1 go 2/4 after r2" + ranks,
                                      "r3 go 3/4 after r1" + ranks, "r4 go 4/4 primary after r3" + ranks}));
}

TEST(Rolling, ARankThatCannotBeReadStopsTheRolling) {
  RollingCoordinator c(rolling_module(), {"r1", "r2"});
  auto host = [&](const std::string& h) {
    return c.wait_turn_ranked("app", h, [&]() -> Result<RollingPlace> {
      if (h == "r2") return fail(ErrorKind::Remote, "rolling.rank gave no integer");
      return RollingPlace{false, 1};
    });
  };
  std::vector<std::future<RollingTurn>> fs;
  for (const auto* h : {"r1", "r2"}) fs.push_back(std::async(std::launch::async, host, h));
  ASSERT_TRUE(all_end(fs));
  for (auto& f : fs) EXPECT_EQ(f.get().outcome, Outcome::Stopped);
}
