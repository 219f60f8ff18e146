// Rolling restarts through the engine: three "hosts" (LOCAL runner, one thread each, as in a run) share a
// RollingCoordinator; containers are run by the fake docker of fake_docker.hpp, whose log records every
// change in the order it happened. Module: tests/fixtures/modules/91-containers with `rolling:` on its
// container step; redis-01 is the primary (first in the inventory, yet it must go last).
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "engine_test_util.hpp"
#include "fake_docker.hpp"
#include "kbz/core/interrupt.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/rolling.hpp"
#include "kbz/runners/local_connection.hpp"

namespace fs = std::filesystem;
using namespace kbz;
using namespace std::chrono_literals;

namespace {

using test::step;

const std::vector<std::string> kHosts{"redis-01", "redis-02", "redis-03"};

class RollingRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::fresh_test_dir("kbz-rolling");
    docker_ = std::make_unique<test::FakeDocker>(root_);
    auto m = load_module(91, ModuleSource{std::string(KBZ_FIXTURES_DIR) + "/modules"});
    ASSERT_TRUE(m) << m.error().message;
    module_ = *m;
    ASSERT_EQ(module_.steps[1].id, "app");
    const std::string dir = "{{settings.test.root}}/{{host.hostname}}";
    module_.steps[1].rolling =
        RollingSpec{"test -f " + dir + "/primary",
                    "echo 'before_primary {{host.hostname}}' >> {{settings.test.root}}/docker/log",
                    "test ! -f " + dir +
                        "/never-ready && echo 'ready {{host.hostname}}' >> {{settings.test.root}}/docker/log",
                    2};
    for (const auto& name : kHosts) {
      Host h;
      h.hostname = name;
      h.role = "redis";
      hosts_.push_back(h);
    }
  }
  void TearDown() override {
    docker_.reset();
    fs::remove_all(root_);
  }

  HostJob job(const Host& host, RunMode mode, const std::string& version, RollingCoordinator* rolling,
              const std::string& side = "1") {
    HostJob j;
    j.module = &module_;
    j.mode = mode;
    j.context.host = host;
    j.context.all_hosts = hosts_;
    j.context.settings = {{"test.root", root_.string()}, {"test.version", version}, {"test.side", side}};
    j.lock = HostLock{(root_ / host.hostname / "host.lock").string(), "run-1", "installer", 42,
                      "2026-01-01T00:00:00Z"};
    j.rolling = rolling;
    return j;
  }

  // One host's run on its own thread.
  std::future<HostRun> start(size_t i, RunMode mode, const std::string& version, RollingCoordinator* rolling,
                             const std::string& side = "1") {
    fs::create_directories(root_ / hosts_[i].hostname);
    return std::async(std::launch::async, [this, i, mode, version, rolling, side] {
      LocalConnection conn(hosts_[i]);
      return run_host(conn, job(hosts_[i], mode, version, rolling, side));
    });
  }

  // Every host in parallel with one coordinator, as `apply` does; versions[i] renders host i's config.
  std::vector<HostRun> apply_all(const std::vector<std::string>& versions,
                                 const std::vector<std::string>& sides = {"1", "1", "1"}) {
    RollingCoordinator rolling(module_, kHosts);
    std::vector<std::future<HostRun>> runs;
    for (size_t i = 0; i < hosts_.size(); ++i)
      runs.push_back(start(i, RunMode::Apply, versions[i], &rolling, sides[i]));
    std::vector<HostRun> out;
    for (auto& r : runs) {
      if (r.wait_for(120s) != std::future_status::ready) {
        ADD_FAILURE() << "a host never finished (deadlock?)";
        install_interrupt_handler();
        std::raise(SIGINT);  // wakes waiting hosts so the test can end
      }
      out.push_back(r.get());
    }
    reset_interrupted();
    return out;
  }

  void install() {
    for (const auto& r : apply_all({"1", "1", "1"})) {
      ASSERT_TRUE(r.error.empty()) << r.error;
      ASSERT_EQ(step(r, "app").status, StepStatus::Changed) << step(r, "app").message;
    }
    std::ofstream(root_ / "redis-01" / "primary") << "";
    docker_->clear_log();
  }

  fs::path root_;
  std::unique_ptr<test::FakeDocker> docker_;
  Module module_;
  std::vector<Host> hosts_;
};

TEST_F(RollingRunTest, AConfigChangeIsRolledReplicasFirstThenThePrimary) {
  ASSERT_NO_FATAL_FAILURE(install());
  const auto runs = apply_all({"2", "2", "2"});
  for (const auto& r : runs) {
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(step(r, "after").status, StepStatus::Ok) << r.host.hostname << ": later steps go on";
  }
  EXPECT_EQ(
      docker_->log(),
      "stop app-redis-02\nrm app-redis-02\nrun app-redis-02\nready redis-02\n"
      "stop app-redis-03\nrm app-redis-03\nrun app-redis-03\nready redis-03\n"
      "before_primary redis-01\nstop app-redis-01\nrm app-redis-01\nrun app-redis-01\nready redis-01\n");
  EXPECT_EQ(step(runs[1], "app").message, "recreate app-redis-02: mounted config changed (rolling 1/3)");
  EXPECT_EQ(step(runs[2], "app").message,
            "recreate app-redis-03: mounted config changed (rolling 2/3, after redis-02)");
  EXPECT_EQ(step(runs[0], "app").message,
            "recreate app-redis-01: mounted config changed (rolling 3/3, primary, after redis-03)");
  EXPECT_EQ(step(runs[0], "app").status, StepStatus::Changed);
}

TEST_F(RollingRunTest, FirstInstallAndUnchangedHostsNeitherWaitNorPayAnExtraExec) {
  RollingCoordinator rolling(module_, kHosts);
  // First install of redis-01 while redis-02 and redis-03 have not even started: creating is not rolled.
  auto first = start(0, RunMode::Apply, "1", &rolling);
  ASSERT_EQ(first.wait_for(60s), std::future_status::ready) << "a create must not wait for the other hosts";
  const HostRun created = first.get();
  EXPECT_EQ(step(created, "app").message, "create app-redis-01 from app:1.0");

  RollingCoordinator again(module_, kHosts);
  auto unchanged = start(0, RunMode::Apply, "1", &again);
  ASSERT_EQ(unchanged.wait_for(60s), std::future_status::ready) << "nothing to roll: no waiting";
  const HostRun noop = unchanged.get();
  EXPECT_EQ(step(noop, "app").status, StepStatus::Ok);
  EXPECT_EQ(noop.stats.execs, 2u) << "batch + lock release: no primary_check, no ready";

  // A host that has something to roll waits for the hosts that have not arrived yet.
  fs::create_directories(root_ / "redis-02");
  ASSERT_TRUE(start(1, RunMode::Apply, "1", nullptr).get().error.empty());  // redis-02 installed alone
  docker_->clear_log();
  auto changing = start(1, RunMode::Apply, "2", &again);
  EXPECT_EQ(changing.wait_for(3s), std::future_status::timeout) << "redis-03 has neither arrived nor left";
  EXPECT_EQ(docker_->log(), "");
  again.leave_all("redis-03");
  ASSERT_EQ(changing.wait_for(60s), std::future_status::ready);
  const HostRun rolled = changing.get();
  EXPECT_EQ(step(rolled, "app").message, "recreate app-redis-02: mounted config changed (rolling 1/1)");
  EXPECT_EQ(docker_->log(), "stop app-redis-02\nrm app-redis-02\nrun app-redis-02\nready redis-02\n");
  EXPECT_EQ(rolled.stats.execs, 8u)
      << "batch, config, re-check, primary_check, recreate, ready, re-check, lock release";
}

// A re-apply expected to be a no-op (the first exec releases the host lock) still notices a stopped
// container, takes the lock again with fresh checks and starts it.
TEST_F(RollingRunTest, AnExpectedNoOpStillStartsAStoppedContainerUnderTheLock) {
  ASSERT_NO_FATAL_FAILURE(install());
  std::ofstream(root_ / "docker" / "app-redis-02" / "state") << "exited\n";
  auto j = job(hosts_[1], RunMode::Apply, "1", nullptr);
  j.expect_no_op = true;
  LocalConnection conn(hosts_[1]);
  const HostRun r = run_host(conn, j);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(step(r, "app").status, StepStatus::Changed) << step(r, "app").message;
  EXPECT_NE(docker_->log().find("app-redis-02"), std::string::npos) << docker_->log();
  EXPECT_FALSE(fs::exists(root_ / "redis-02" / "host.lock")) << "released";

  docker_->clear_log();
  const HostRun noop = run_host(conn, j);
  EXPECT_EQ(step(noop, "app").status, StepStatus::Ok);
  EXPECT_EQ(noop.stats.execs, 1u) << "checks, and the lock released by the same exec";
  EXPECT_FALSE(fs::exists(root_ / "redis-02" / "host.lock"));
  EXPECT_EQ(docker_->log(), "");
}

TEST_F(RollingRunTest, AHostThatIsNotReadyStopsTheOthersBeforeTheyChange) {
  ASSERT_NO_FATAL_FAILURE(install());
  std::ofstream(root_ / "redis-02" / "never-ready") << "";
  const auto runs = apply_all({"2", "2", "2"});
  const auto& failed = step(runs[1], "app");
  EXPECT_EQ(failed.status, StepStatus::Failed);
  EXPECT_NE(
      failed.message.find(
          "recreate app-redis-02: mounted config changed; rolling.ready exited 1: still not ready after 2 s"),
      std::string::npos)
      << failed.message;
  EXPECT_NE(failed.message.find("(rolling 1/3)"), std::string::npos) << failed.message;
  for (size_t i : {0u, 2u}) {
    EXPECT_EQ(step(runs[i], "app").status, StepStatus::Failed);
    EXPECT_EQ(step(runs[i], "app").message, "rolling stopped: redis-02 failed at app");
    EXPECT_EQ(step(runs[i], "after").message, "an earlier step failed");
  }
  EXPECT_EQ(docker_->log(), "stop app-redis-02\nrm app-redis-02\nrun app-redis-02\n")
      << "nobody else changed";
}

// Ctrl-C while a host waits for `ready` after its change: the wait ends within seconds (not after
// ready_timeout), the hosts still waiting do not change, and every host lock is released: the run ends the
// normal way, so the user has no reason to press Ctrl-C again (which exits at once, locks left behind).
TEST_F(RollingRunTest, CtrlCWhileWaitingForReadyEndsTheRunAndReleasesEveryLock) {
  ASSERT_NO_FATAL_FAILURE(install());
  module_.steps[1].rolling->ready_timeout_s = 120;
  std::ofstream(root_ / "redis-02" / "never-ready") << "";
  RollingCoordinator rolling(module_, kHosts);
  std::vector<std::future<HostRun>> runs;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < hosts_.size(); ++i) runs.push_back(start(i, RunMode::Apply, "2", &rolling));
  for (int i = 0; i < 600 && docker_->log().find("run app-redis-02") == std::string::npos; ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_NE(docker_->log().find("run app-redis-02"), std::string::npos) << "redis-02 never rolled";
  std::this_thread::sleep_for(1500ms);  // inside its ready loop
  install_interrupt_handler();
  std::raise(SIGINT);  // the first Ctrl-C only sets the flag
  std::vector<HostRun> out;
  for (auto& r : runs) {
    ASSERT_EQ(r.wait_for(60s), std::future_status::ready) << "a host still waits after Ctrl-C";
    out.push_back(r.get());
  }
  reset_interrupted();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s) << "waited for ready_timeout despite Ctrl-C";
  EXPECT_EQ(step(out[1], "app").status, StepStatus::Failed);
  EXPECT_NE(step(out[1], "app").message.find("rolling.ready: interrupted (Ctrl-C)"), std::string::npos)
      << step(out[1], "app").message;
  EXPECT_EQ(docker_->log(), "stop app-redis-02\nrm app-redis-02\nrun app-redis-02\n")
      << "nobody else changed";
  for (const auto& name : kHosts)
    EXPECT_FALSE(fs::exists(root_ / name / "host.lock")) << name << ": host lock left behind";
}

TEST_F(RollingRunTest, AHostDroppingOutEarlyDoesNotHoldTheOthers) {
  ASSERT_NO_FATAL_FAILURE(install());
  // redis-03 cannot even start: another run holds its host lock (an early return of its worker).
  fs::create_directories(root_ / "redis-03" / "host.lock");
  std::ofstream(root_ / "redis-03" / "host.lock" / "info") << "installer=x\npid=1\nrun_id=other\nstarted=x\n";
  const auto runs = apply_all({"2", "2", "2"});
  EXPECT_NE(runs[2].error.find("host lock held by another run"), std::string::npos) << runs[2].error;
  EXPECT_EQ(step(runs[1], "app").message, "recreate app-redis-02: mounted config changed (rolling 1/2)");
  EXPECT_EQ(step(runs[0], "app").message,
            "recreate app-redis-01: mounted config changed (rolling 2/2, primary, after redis-02)");
}

TEST_F(RollingRunTest, AnEarlierFailedStepDropsTheHostOut) {
  ASSERT_NO_FATAL_FAILURE(install());
  const Step broken = test::parse_step(
      "{id: broken, kind: command, check: 'test {{host.hostname}} != redis-02', apply: \"echo 'cannot on "
      "redis-02'; exit 1\"}");
  module_.steps.insert(module_.steps.begin() + 1, broken);
  const auto runs = apply_all({"2", "2", "2"});
  EXPECT_EQ(step(runs[1], "broken").status, StepStatus::Failed);
  EXPECT_EQ(step(runs[1], "app").message, "an earlier step failed");
  EXPECT_EQ(step(runs[2], "app").message, "recreate app-redis-03: mounted config changed (rolling 1/2)");
  EXPECT_EQ(step(runs[0], "app").message,
            "recreate app-redis-01: mounted config changed (rolling 2/2, primary, after redis-03)");
}

TEST_F(RollingRunTest, AHostTheStepIsNotForDropsOut) {
  ASSERT_NO_FATAL_FAILURE(install());
  module_.steps[1].when = "host.hostname != redis-03";
  const auto runs = apply_all({"2", "2", "2"});
  EXPECT_EQ(step(runs[2], "app").message, "when: host.hostname != redis-03 is false");
  EXPECT_EQ(step(runs[1], "app").message, "recreate app-redis-02: mounted config changed (rolling 1/2)");
  EXPECT_EQ(step(runs[0], "app").message,
            "recreate app-redis-01: mounted config changed (rolling 2/2, primary, after redis-02)");
}

// A host with nothing to roll in the first rolling step leaves it at once, not when its worker ends: here
// redis-01 waits in `side` for redis-02, which waits in `app` for redis-01.
TEST_F(RollingRunTest, TwoRollingStepsDoNotWaitOnEachOther) {
  const Step conf = test::parse_step(
      "{id: side-conf, kind: file, path: '{{settings.test.root}}/{{host.hostname}}/side/side.conf', "
      "content: \"side={{settings.test.side}}\\n\"}");
  const Step side = test::parse_step(
      "{id: side, kind: container, name: 'side-{{host.hostname}}', image: app, run_as: root, "
      "command: [app, --config, /etc/app/app.conf], mounts: "
      "['{{settings.test.root}}/{{host.hostname}}/side:/etc/side:ro'], "
      "rolling: {}}",
      "{app: 'app:1.0'}");
  module_.steps.insert(module_.steps.begin() + 2, {conf, side});
  ASSERT_NO_FATAL_FAILURE(install());
  const auto runs = apply_all({"1", "2", "1"}, {"2", "1", "1"});
  for (const auto& r : runs) EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(step(runs[0], "app").status, StepStatus::Ok);
  EXPECT_EQ(step(runs[0], "side").message, "recreate side-redis-01: mounted config changed (rolling 1/1)");
  EXPECT_EQ(step(runs[1], "app").message, "recreate app-redis-02: mounted config changed (rolling 1/1)");
  EXPECT_EQ(step(runs[1], "side").status, StepStatus::Ok);
}

TEST_F(RollingRunTest, PlanSaysTheRecreateWillBeRolledAndNeverWaits) {
  ASSERT_NO_FATAL_FAILURE(install());
  RollingCoordinator rolling(module_, kHosts);  // nobody else comes: plan must not wait for them
  auto plan = start(1, RunMode::Plan, "2", &rolling);
  ASSERT_EQ(plan.wait_for(60s), std::future_status::ready);
  const HostRun run = plan.get();
  const auto& app = step(run, "app");
  EXPECT_EQ(app.status, StepStatus::WouldChange);
  EXPECT_EQ(app.message, "recreate app-redis-02: mounted config " +
                             (root_ / "redis-02" / "conf" / "app.conf").string() +
                             " changes (rolling: one host at a time)");
  EXPECT_EQ(docker_->log(), "");
}

}  // namespace
