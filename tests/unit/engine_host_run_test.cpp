// The host algorithm end to end through the LOCAL runner (sh -c on this machine), with the test module
// tests/fixtures/modules/90-sample writing under a temp folder.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine_test_util.hpp"
#include "kbz/core/interrupt.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/workdir_lock.hpp"
#include "kbz/runners/local_connection.hpp"

namespace fs = std::filesystem;
using namespace kbz;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

using test::step;

class HostRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::fresh_test_dir("kbz-hostrun");
    auto m = load_module(90, ModuleSource{std::string(KBZ_FIXTURES_DIR) + "/modules"});
    ASSERT_TRUE(m) << m.error().message;
    module_ = *m;
    host_.hostname = "web-01";
    host_.private_ip = "10.0.0.5";
    host_.role = "app";
    Masker::global().add(token_);
  }
  void TearDown() override { fs::remove_all(root_); }

  HostJob job(RunMode mode, const std::string& fail_host = "none") {
    HostJob j;
    j.module = &module_;
    j.mode = mode;
    j.context.host = host_;
    j.context.all_hosts = {host_};
    j.context.settings = {{"test.root", root_.string()}, {"test.fail_host", fail_host}};
    j.context.credentials = {{"SAMPLE_TOKEN", token_}};
    j.lock = HostLock{(root_ / "host.lock").string(), "run-1", "installer", 42, "2026-01-01T00:00:00Z"};
    j.reconnect = [this]() -> Result<Connection*> {
      ++reconnects_;
      fresh_ = std::make_unique<LocalConnection>(host_);
      return fresh_.get();
    };
    return j;
  }

  HostRun run(const HostJob& j) {
    LocalConnection conn(host_);
    return run_host(conn, j);
  }

  fs::path app() const { return root_ / "web-01" / "app"; }

  fs::path root_;
  Module module_;
  Host host_;
  const std::string token_ = "tok-9f8e7d6c5b4a39281706";
  std::unique_ptr<LocalConnection> fresh_;
  int reconnects_ = 0;
};

TEST_F(HostRunTest, ApplyChangesThenANoOpReapplyCostsTwoExecs) {
  const HostRun first = run(job(RunMode::Apply));
  EXPECT_TRUE(first.error.empty()) << first.error;
  EXPECT_EQ(step(first, "app-dir").status, StepStatus::Changed);
  EXPECT_EQ(step(first, "app-conf").status, StepStatus::Changed);
  EXPECT_EQ(step(first, "app-conf").message, "file absent");
  EXPECT_EQ(step(first, "marker").status, StepStatus::Changed);
  EXPECT_EQ(step(first, "maybe-fail").status, StepStatus::Changed);
  // `ready` was not ready in the first batch; the re-check after maybe-fail saw the file: no waiting.
  EXPECT_EQ(step(first, "ready").status, StepStatus::Ok);
  EXPECT_EQ(step(first, "handler:reload-app").status, StepStatus::Changed)
      << step(first, "handler:reload-app").message;
  EXPECT_EQ(reconnects_, 1);
  EXPECT_TRUE(fs::exists(app() / "reloaded"));
  EXPECT_EQ(slurp(app() / "app.conf"),
            "# Rendered by kbz-install for web-01\nlisten=10.0.0.5\ntoken=" + token_ + "\npeers=web-01 \n");
  EXPECT_EQ(slurp(app() / "marker"), "os=debian role=app\n");
  struct stat st {};
  ASSERT_EQ(::stat((app() / "app.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(fs::exists(root_ / "host.lock")) << "lock released";

  const HostRun again = run(job(RunMode::Apply));
  EXPECT_EQ(again.count(StepStatus::Ok), 5);
  EXPECT_EQ(again.count(StepStatus::Changed), 0);
  EXPECT_EQ(again.stats.execs, 2u) << "batch + lock release";
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

TEST_F(HostRunTest, PlanShowsAMaskedDiffAndChangesNothing) {
  run(job(RunMode::Apply));
  std::string conf = slurp(app() / "app.conf");
  conf.replace(conf.find("listen=10.0.0.5"), 15, "listen=0.0.0.0");
  std::ofstream(app() / "app.conf") << conf;
  fs::remove(app() / "marker");

  const HostRun plan = run(job(RunMode::Plan));
  const auto& s = step(plan, "app-conf");
  EXPECT_EQ(s.status, StepStatus::WouldChange);
  EXPECT_EQ(s.message, "content differs");
  const std::string path = (app() / "app.conf").string();
  EXPECT_NE(s.diff.find("--- " + path + " (remote)\n+++ " + path + " (rendered)\n"), std::string::npos)
      << s.diff;
  EXPECT_NE(s.diff.find("-listen=0.0.0.0\n+listen=10.0.0.5\n"), std::string::npos) << s.diff;
  EXPECT_NE(s.diff.find(" token=(secret)\n"), std::string::npos) << s.diff;
  EXPECT_EQ(s.diff.find(token_), std::string::npos);
  EXPECT_NE(step(plan, "marker").diff.find("(remote, absent)"), std::string::npos);
  EXPECT_EQ(step(plan, "handler:reload-app").status, StepStatus::WouldChange);
  EXPECT_EQ(plan.stats.execs, 2u) << "batch + one exec fetching the differing files";
  EXPECT_EQ(slurp(app() / "app.conf"), conf) << "plan changed nothing";
  EXPECT_FALSE(fs::exists(app() / "marker"));
}

// Found on the lab: a new workdir (credentials/ not there) planned against hosts that keep the old password
// printed it in the diff: the Masker only knows this run's secrets. Secret lines are hidden by position.
TEST_F(HostRunTest, PlanHidesASecretTheMaskerDoesNotKnow) {
  run(job(RunMode::Apply));
  std::string conf = slurp(app() / "app.conf");
  const std::string old_secret = "old-Zq81mUXn0rT5vLp2";  // never registered with the Masker
  conf.replace(conf.find(token_), token_.size(), old_secret);
  std::ofstream(app() / "app.conf") << conf;

  const HostRun plan = run(job(RunMode::Plan));
  const auto& s = step(plan, "app-conf");
  EXPECT_EQ(s.status, StepStatus::WouldChange);
  EXPECT_EQ(s.diff.find(old_secret), std::string::npos) << s.diff;
  EXPECT_EQ(s.diff.find(token_), std::string::npos) << s.diff;
  EXPECT_NE(s.diff.find("-token=(secret)\n+token=(secret, changes)\n"), std::string::npos) << s.diff;
}

TEST_F(HostRunTest, AFailedStepSkipsTheRestAndStillReleasesTheLock) {
  const HostRun r = run(job(RunMode::Apply, "web-01"));
  EXPECT_EQ(step(r, "maybe-fail").status, StepStatus::Failed);
  EXPECT_EQ(step(r, "maybe-fail").message, "exit 3: boom on web-01");
  EXPECT_EQ(step(r, "ready").status, StepStatus::Skipped);
  EXPECT_EQ(step(r, "ready").message, "an earlier step failed");
  EXPECT_EQ(step(r, "handler:reload-app").status, StepStatus::Skipped);
  EXPECT_EQ(r.count(StepStatus::Failed), 1);
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

TEST_F(HostRunTest, FromStepSkipsEarlierSteps) {
  auto j = job(RunMode::Apply);
  j.from_step = "maybe-fail";
  fs::create_directories(app());
  const HostRun r = run(j);
  EXPECT_EQ(step(r, "app-dir").status, StepStatus::Skipped);
  EXPECT_EQ(step(r, "app-conf").message, "before --from-step maybe-fail");
  EXPECT_EQ(step(r, "maybe-fail").status, StepStatus::Changed);
  EXPECT_FALSE(fs::exists(app() / "app.conf"));
}

TEST_F(HostRunTest, AHostLockHeldByAnotherRunRefusesAndIsKept) {
  fs::create_directories(root_ / "host.lock");
  std::ofstream(root_ / "host.lock" / "info")
      << "installer=install-01\npid=777\nrun_id=other-run\nstarted=2026-01-01T09:00:00Z\n";
  const HostRun r = run(job(RunMode::Apply));
  EXPECT_NE(r.error.find("host lock held by another run"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("installer=install-01 pid=777 run_id=other-run"), std::string::npos) << r.error;
  EXPECT_EQ(r.count(StepStatus::Skipped), 5);
  EXPECT_TRUE(fs::exists(root_ / "host.lock" / "info"));
  EXPECT_FALSE(fs::exists(app()));
}

TEST_F(HostRunTest, HandlerValidateFailureFailsTheHostAndSkipsTheCommand) {
  module_.handlers[0].validate = "echo 'config invalid' >&2; false";
  const HostRun r = run(job(RunMode::Apply));
  const auto& h = step(r, "handler:reload-app");
  EXPECT_EQ(h.status, StepStatus::Failed);
  EXPECT_EQ(h.message, "validate exited 1: config invalid");
  EXPECT_FALSE(fs::exists(app() / "reloaded"));
  EXPECT_EQ(reconnects_, 0);
}

TEST_F(HostRunTest, ReconnectFailureAfterAHandlerIsLoud) {
  auto j = job(RunMode::Apply);
  j.reconnect = []() -> Result<Connection*> { return fail(ErrorKind::Connect, "connection refused"); };
  const HostRun r = run(j);
  const auto& h = step(r, "handler:reload-app");
  EXPECT_EQ(h.status, StepStatus::Failed);
  EXPECT_NE(h.message.find("NEW SSH session was refused"), std::string::npos) << h.message;
}

// A fresh session whose first channels cannot be opened (sshd slow to fork a session on a loaded server).
class ChannelsRefused : public LocalConnection {
 public:
  ChannelsRefused(Host host, int refusals) : LocalConnection(std::move(host)), refusals_(refusals) {}
  Result<ExecResult> run(const ExecRequest& request) override {
    if (refusals_ != 0) {
      if (refusals_ > 0) --refusals_;
      return fail(ErrorKind::Connect, "web-01 (10.0.0.5): cannot open a channel");
    }
    return LocalConnection::run(request);
  }

 private:
  int refusals_;  // -1 = always
};

TEST_F(HostRunTest, ReconnectProbeWaitsForASlowChannelButNotForever) {
  std::unique_ptr<ChannelsRefused> slow;
  HostJob j = job(RunMode::Apply);
  j.reconnect = [&]() -> Result<Connection*> {
    slow = std::make_unique<ChannelsRefused>(host_, 2);
    return slow.get();
  };
  const HostRun r = run(j);
  EXPECT_EQ(step(r, "handler:reload-app").status, StepStatus::Changed)
      << step(r, "handler:reload-app").message;
  EXPECT_EQ(step(r, "handler:reload-app").message, "ran; a new SSH session still gets in");

  fs::remove_all(root_ / "web-01");
  j.reconnect = [&]() -> Result<Connection*> {
    slow = std::make_unique<ChannelsRefused>(host_, -1);
    return slow.get();
  };
  const auto t0 = std::chrono::steady_clock::now();
  const HostRun never = run(j);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  const auto& h = step(never, "handler:reload-app");
  EXPECT_EQ(h.status, StepStatus::Failed);
  EXPECT_NE(h.message.find(
                "cannot run commands (sudo?) after this handler: web-01 (10.0.0.5): cannot open a channel"),
            std::string::npos)
      << h.message;
}

TEST_F(HostRunTest, WhenAndHostsRestrictSteps) {
  module_.steps[2].when = "facts.os_id == ubuntu";  // this machine is Debian
  module_.steps[3].hosts = "role:db";
  module_.steps[4].hosts = "web-*,role:db";  // still this host: hostname glob
  const HostRun r = run(job(RunMode::Apply));
  EXPECT_EQ(step(r, "marker").status, StepStatus::Skipped);
  EXPECT_EQ(step(r, "marker").message, "when: facts.os_id == ubuntu is false");
  EXPECT_EQ(step(r, "maybe-fail").message, "not for this host");
  EXPECT_EQ(step(r, "ready").status, StepStatus::Failed) << "applies, and maybe-fail never made it ready";
  EXPECT_NE(step(r, "ready").message.find("still not ready after 5 s"), std::string::npos)
      << step(r, "ready").message;
}

TEST_F(HostRunTest, CtrlCStopsBeforeTheNextStepAndReleasesTheLock) {
  install_interrupt_handler();
  std::raise(SIGINT);  // the first Ctrl-C only sets the flag
  ASSERT_TRUE(interrupted());
  const HostRun r = run(job(RunMode::Apply));
  reset_interrupted();
  EXPECT_EQ(step(r, "app-dir").status, StepStatus::Skipped);
  EXPECT_EQ(step(r, "app-dir").message, "interrupted");
  EXPECT_EQ(r.count(StepStatus::Skipped), 5);
  EXPECT_FALSE(fs::exists(app()));
  EXPECT_FALSE(fs::exists(root_ / "host.lock")) << "taken by the batch, released on the way out";
  EXPECT_EQ(r.stats.execs, 2u);
}

// Records, for each exec, whether the host lock existed when it started and when it ended.
class LockSpyConnection : public Connection {
 public:
  LockSpyConnection(const Host& h, fs::path lock) : inner_(h), lock_(std::move(lock)) {}
  const Host& host() const override { return inner_.host(); }
  Result<ExecResult> run(const ExecRequest& r) override {
    const bool before = fs::exists(lock_);
    auto res = inner_.run(r);
    execs.push_back({r.command, before, fs::exists(lock_)});
    return res;
  }
  Result<UploadOutcome> upload(const UploadRequest& r) override { return inner_.upload(r); }
  Result<std::string> read_file(const std::string& p) override { return inner_.read_file(p); }
  const TransportStats& stats() const override { return inner_.stats(); }

  struct Exec {
    std::string command;
    bool lock_before, lock_after;
  };
  std::vector<Exec> execs;

 private:
  LocalConnection inner_;
  fs::path lock_;
};

// The last recorded apply changed nothing: the next one's first exec also releases the host lock.
TEST_F(HostRunTest, AnExpectedNoOpCostsOneExecThatAlsoReleasesTheLock) {
  ASSERT_TRUE(run(job(RunMode::Apply)).error.empty());
  auto j = job(RunMode::Apply);
  j.expect_no_op = true;
  LockSpyConnection conn(host_, root_ / "host.lock");
  const HostRun r = run_host(conn, j);
  EXPECT_EQ(r.count(StepStatus::Ok), 5);
  EXPECT_EQ(r.stats.execs, 1u) << "checks + lock release in one exec";
  ASSERT_EQ(conn.execs.size(), 1u);
  EXPECT_FALSE(conn.execs[0].lock_after);
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

// Expected a no-op, found a drifted file and a removed marker: the lock is taken again with fresh checks, and
// every change, the handler included, happens while this run holds it.
TEST_F(HostRunTest, AnExpectedNoOpStillRepairsADriftUnderTheLock) {
  ASSERT_TRUE(run(job(RunMode::Apply)).error.empty());
  std::ofstream(app() / "app.conf") << "listen=0.0.0.0\n";
  fs::remove(app() / "done");  // a command step's check fails (like a changed sysctl)
  fs::remove(app() / "reloaded");
  auto j = job(RunMode::Apply);
  j.expect_no_op = true;
  LockSpyConnection conn(host_, root_ / "host.lock");
  const HostRun r = run_host(conn, j);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(step(r, "app-conf").status, StepStatus::Changed);
  EXPECT_EQ(step(r, "maybe-fail").status, StepStatus::Changed);
  EXPECT_EQ(step(r, "handler:reload-app").status, StepStatus::Changed);
  EXPECT_NE(slurp(app() / "app.conf").find("listen=10.0.0.5"), std::string::npos);
  EXPECT_TRUE(fs::exists(app() / "done"));
  EXPECT_TRUE(fs::exists(app() / "reloaded"));
  ASSERT_GE(conn.execs.size(), 3u);
  EXPECT_FALSE(conn.execs[0].lock_after) << "first checks released the lock";
  EXPECT_TRUE(conn.execs[1].lock_after) << "taken again with the second checks";
  for (size_t i = 2; i < conn.execs.size(); ++i)
    EXPECT_TRUE(conn.execs[i].lock_before) << "exec " << i << " without the lock: " << conn.execs[i].command;
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

TEST_F(HostRunTest, AnExpectedNoOpStillRefusesALockHeldByAnotherRun) {
  fs::create_directories(root_ / "host.lock");
  std::ofstream(root_ / "host.lock" / "info")
      << "installer=install-01\npid=777\nrun_id=other-run\nstarted=2026-01-01T09:00:00Z\n";
  auto j = job(RunMode::Apply);
  j.expect_no_op = true;
  const HostRun r = run(j);
  EXPECT_NE(r.error.find("host lock held by another run"), std::string::npos) << r.error;
  EXPECT_TRUE(fs::exists(root_ / "host.lock" / "info")) << "another run's lock is never removed";
  EXPECT_FALSE(fs::exists(app()));
}

// The last step changes and nothing follows it (no re-check, no handler): its apply releases the lock.
TEST_F(HostRunTest, TheLastChangeCarriesTheLockRelease) {
  module_.handlers.clear();
  for (auto& s : module_.steps) s.notify.clear();
  module_.steps.pop_back();  // `ready`: maybe-fail is now the last step
  const HostRun first = run(job(RunMode::Apply));
  EXPECT_EQ(first.count(StepStatus::Changed), 4);
  EXPECT_EQ(first.stats.execs, 8u) << "checks, 4 applies, 3 re-checks; the release rides on the last apply";
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));

  fs::remove(app() / "done");
  LockSpyConnection conn(host_, root_ / "host.lock");
  const HostRun one = run_host(conn, job(RunMode::Apply));
  EXPECT_EQ(step(one, "maybe-fail").status, StepStatus::Changed);
  ASSERT_EQ(conn.execs.size(), 2u) << "a one-step change: checks, then the apply that releases the lock";
  EXPECT_TRUE(conn.execs[1].lock_before);
  EXPECT_FALSE(conn.execs[1].lock_after);
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

TEST_F(HostRunTest, AFailingLastChangeStillReleasesTheLockAndSaysWhy) {
  module_.handlers.clear();
  for (auto& s : module_.steps) s.notify.clear();
  module_.steps.pop_back();
  const HostRun r = run(job(RunMode::Apply, "web-01"));
  EXPECT_EQ(step(r, "maybe-fail").status, StepStatus::Failed);
  EXPECT_EQ(step(r, "maybe-fail").message, "exit 3: boom on web-01") << "the release's line is not in it";
  EXPECT_EQ(r.stats.execs, 8u);
  EXPECT_TRUE(r.cleanup_errors.empty());
  EXPECT_FALSE(fs::exists(root_ / "host.lock"));
}

TEST(WorkdirLock, SecondRunIsRefusedWithTheHolder) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-wlock-" + std::to_string(getpid()));
  fs::remove_all(dir);
  {
    auto first = WorkdirLock::acquire(dir.string(), "apply --module 2");
    ASSERT_TRUE(first) << first.error().message;
    auto second = WorkdirLock::acquire(dir.string(), "apply --module 3");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Locked);
    EXPECT_NE(second.error().message.find("pid " + std::to_string(getpid()) + " on " + this_hostname()),
              std::string::npos)
        << second.error().message;
    EXPECT_NE(second.error().message.find("apply --module 2"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir / ".kbz" / "lock")) << "released when the holder goes away";
  fs::remove_all(dir);
}

TEST(WorkdirLock, StaleLockOfADeadPidIsTakenOverWithAWarning) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-wlock-stale-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / ".kbz");
  // A pid far above pid_max's usual range on this machine: certainly not running.
  std::ofstream(dir / ".kbz" / "lock")
      << "pid=4194000\nhostname=" << this_hostname() << "\nstarted=x\ncommand=apply\n";
  std::string warning;
  auto lock = WorkdirLock::acquire(dir.string(), "apply", &warning);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_NE(warning.find("stale lock"), std::string::npos) << warning;
  fs::remove_all(dir);
}

}  // namespace

namespace {

// A host that dies during a command (found on the lab: docker kill of a server during apply): every exec
// from the Nth one on fails like a lost session.
class DyingConnection : public Connection {
 public:
  DyingConnection(const Host& h, int dies_at) : inner_(h), dies_at_(dies_at) {}
  const Host& host() const override { return inner_.host(); }
  Result<ExecResult> run(const ExecRequest& r) override {
    if (++execs_ >= dies_at_) return fail(ErrorKind::Connect, "connection lost during a command");
    return inner_.run(r);
  }
  Result<UploadOutcome> upload(const UploadRequest& r) override { return inner_.upload(r); }
  Result<std::string> read_file(const std::string& p) override { return inner_.read_file(p); }
  const TransportStats& stats() const override { return inner_.stats(); }

 private:
  LocalConnection inner_;
  int dies_at_;
  int execs_ = 0;
};

TEST_F(HostRunTest, TheRecapNamesTheFirstFailureNotTheLockReleaseAfterIt) {
  DyingConnection conn(host_, 2);  // the checks pass (exec 1), the first apply is lost (exec 2), and so on
  const HostRun r = run_host(conn, job(RunMode::Apply));
  EXPECT_EQ(r.first_failure(), "app-dir: connection lost during a command");
  ASSERT_EQ(r.cleanup_errors.size(), 1u) << "the lock release failed too, and is said after";
  EXPECT_NE(r.cleanup_errors[0].find("not released: connection lost"), std::string::npos)
      << r.cleanup_errors[0];
}

}  // namespace
