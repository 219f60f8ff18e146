// Exec over real sshd: exit codes, separate streams, stdin, timeouts, sudo, auth and reachability errors.
#include <gtest/gtest.h>

#include <fstream>

#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/transport/connection.hpp"
#include "kbz/transport/exec_log.hpp"
#include "sshd_fixture.hpp"

namespace kbz {
namespace {

class TransportExec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sshd_skip_reason().empty()) return;
    fleet_ = new test::SshdFleet(3);
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  void SetUp() override {
    if (auto why = test::sshd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  static ExecRequest req(std::string command, Privilege privilege = Privilege::AsUser) {
    ExecRequest r;
    r.command = std::move(command);
    r.privilege = privilege;
    return r;
  }
  static test::SshdFleet* fleet_;
};
test::SshdFleet* TransportExec::fleet_ = nullptr;

TEST_F(TransportExec, ExitStatusIsAValueAndSessionIsReused) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(0));
  ASSERT_TRUE(conn) << conn.error().message;
  for (int code : {0, 1, 42}) {
    auto r = (*conn)->run(req("exit " + std::to_string(code)));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_status, code);
  }
  auto again = pool.connect(fleet_->host(0));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *conn) << "the pool must hand back the open session";
  EXPECT_EQ((*conn)->stats().execs, 3u);
  EXPECT_GT((*conn)->stats().bytes_received, 0u);
  EXPECT_EQ(pool.total_stats().execs, 3u);
}

TEST_F(TransportExec, StdoutAndStderrAreSeparate) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(1));
  ASSERT_TRUE(conn) << conn.error().message;
  auto r = (*conn)->run(req("echo to-out; echo to-err >&2; echo more-out; exit 3"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "to-out\nmore-out\n");
  EXPECT_EQ(r->err, "to-err\n");
  EXPECT_EQ(r->exit_status, 3);
  // Large output on both streams at once must not stall (window handling).
  auto big = (*conn)->run(req("head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2"));
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->out.size(), 3000000u);
  EXPECT_EQ(big->err.size(), 2000000u);
}

TEST_F(TransportExec, StdinIsDeliveredThenClosed) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(0));
  ASSERT_TRUE(conn) << conn.error().message;
  auto r = req("wc -c; cat >/dev/null");
  r.stdin_data = std::string(200000, 'x');
  auto res = (*conn)->run(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->out, "200000\n");
  auto echo = req("cat");
  echo.stdin_data = "line one\nline two\n";
  auto res2 = (*conn)->run(echo);
  ASSERT_TRUE(res2);
  EXPECT_EQ(res2->out, "line one\nline two\n");
  // A command that exits without reading its stdin is a result, not a transport error.
  // (The write must not wait for a window the command never reopens: that wait would last the whole
  // session timeout, 30 s here.)
  auto options = fleet_->connect_options();
  options.connect_timeout = Millis(30000);
  SessionPool slow_pool(options);
  auto slow = slow_pool.connect(fleet_->host(0));
  ASSERT_TRUE(slow) << slow.error().message;
  auto ignore = req("exit 4");
  ignore.stdin_data = std::string(8 << 20, 'y');
  const auto t0 = std::chrono::steady_clock::now();
  auto res3 = (*slow)->run(ignore);
  ASSERT_TRUE(res3) << res3.error().message;
  EXPECT_EQ(res3->exit_status, 4);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

TEST_F(TransportExec, TimeoutIsReportedAndSessionStaysUsable) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(2));
  ASSERT_TRUE(conn) << conn.error().message;
  auto r = req("sleep 30");
  r.timeout = Millis(300);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = (*conn)->run(r);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, ErrorKind::Timeout);
  EXPECT_NE(res.error().message.find("timed out"), std::string::npos) << res.error().message;
  EXPECT_LT(took, std::chrono::seconds(3));
  auto after = (*conn)->run(req("echo still-here"));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->out, "still-here\n");
}

TEST_F(TransportExec, RootCommandsGoThroughSudoForNonRootUser) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(0, test::kSudoUser));
  ASSERT_TRUE(conn) << conn.error().message;
  auto root = (*conn)->run(req("id -u; echo \"$0\"", Privilege::Root));
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(root->out.substr(0, 2), "0\n") << root->out << root->err;
  auto plain = (*conn)->run(req("id -un", Privilege::AsUser));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->out, "kbztest\n");
  // A quote in the command survives the sudo wrapping.
  auto quoted = (*conn)->run(req("printf '%s\\n' \"it's ok\"", Privilege::Root));
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->out, "it's ok\n");
}

TEST_F(TransportExec, MissingSudoRightIsAClearError) {
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(1, test::kNoSudoUser));
  ASSERT_TRUE(conn) << conn.error().message;
  auto r = (*conn)->run(req("true", Privilege::Root));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Auth);
  EXPECT_NE(r.error().message.find("user kbznosudo has no passwordless sudo on kbz-test-02"),
            std::string::npos)
      << r.error().message;
  // A command that merely fails with status 1 is not mistaken for a sudo refusal.
  auto ordinary = (*conn)->run(req("echo nope >&2; exit 1", Privilege::AsUser));
  ASSERT_TRUE(ordinary);
  EXPECT_EQ(ordinary->exit_status, 1);
}

TEST_F(TransportExec, AuthFailureNamesUserAndKeys) {
  auto options = fleet_->connect_options();
  const auto other_key = fleet_->dir() / "not_authorized";
  ASSERT_EQ(
      test::run_process({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other_key.string()})
          .exit_status,
      0);
  options.identities = {other_key};
  SessionPool pool(options);
  auto conn = pool.connect(fleet_->host(0));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().kind, ErrorKind::Auth);
  EXPECT_NE(conn.error().message.find("authentication refused for user kbztest"), std::string::npos)
      << conn.error().message;
  EXPECT_NE(conn.error().message.find(other_key.string()), std::string::npos) << conn.error().message;
}

TEST_F(TransportExec, HostDownIsOneClearErrorAndOthersWork) {
  auto options = fleet_->connect_options();
  options.connect_timeout = Millis(2000);
  SessionPool pool(options);
  Host down = fleet_->host(0);
  down.hostname = "kbz-down";
  down.address = "127.0.0.77";  // nothing listens there
  auto bad = pool.connect(down);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Connect);
  EXPECT_EQ(bad.error().message.find('\n'), std::string::npos) << "one line: " << bad.error().message;
  EXPECT_NE(bad.error().message.find("kbz-down (127.0.0.77)"), std::string::npos) << bad.error().message;
  auto good = pool.connect(fleet_->host(1));
  ASSERT_TRUE(good) << good.error().message;
  auto r = (*good)->run(req("true"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 0);
}

TEST_F(TransportExec, SecretViaStdinNeverReachesArgvOrServerLogAndRunLogIsMasked) {
  const std::string value = "kbz-S3cr3t-" + std::to_string(::getpid());
  Secret secret(value);
  const auto workdir = fleet_->dir() / "work";
  auto log_path = open_run_log(workdir, "test");
  ASSERT_TRUE(log_path) << log_path.error().message;
  SessionPool pool(fleet_->connect_options());
  auto conn = pool.connect(fleet_->host(2));
  ASSERT_TRUE(conn) << conn.error().message;
  // While the command runs, every process's argv on the host is listed: the secret must not be among them.
  auto r = req("read -r pw; ps -eo args; printf 'got %s\\n' \"$pw\"");
  r.stdin_data = secret.reveal() + "\n";
  auto res = (*conn)->run(r);
  ASSERT_TRUE(res) << res.error().message;
  const auto got = res->out.rfind("got ");
  ASSERT_NE(got, std::string::npos) << res->out;
  EXPECT_EQ(res->out.substr(got), "got " + value + "\n");
  EXPECT_NE(res->out.find("ps -eo args"), std::string::npos) << "ps must list our own command";
  EXPECT_EQ(res->out.substr(0, got).find(value), std::string::npos) << "secret visible in a process argv";
  log_exec(fleet_->host(2), r.command, res);
  close_run_log();

  const std::string sshd_log = fleet_->log(2);
  EXPECT_NE(sshd_log.find("read -r pw"), std::string::npos) << "the daemon log must show commands (LogLevel)";
  EXPECT_EQ(sshd_log.find(value), std::string::npos) << "secret leaked into the sshd log";

  std::ifstream in(*log_path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("kbz-test-03"), std::string::npos) << text;
  EXPECT_NE(text.find("got ***"), std::string::npos) << text;
  EXPECT_EQ(text.find(value), std::string::npos) << "secret leaked into the run log:\n" << text;
  Masker::global().clear();
}

TEST_F(TransportExec, ReconnectOpensAFreshSession) {
  SessionPool pool(fleet_->connect_options());
  auto first = pool.connect(fleet_->host(1));
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE((*first)->run(req("true")));
  auto second = pool.reconnect(fleet_->host(1));
  ASSERT_TRUE(second) << second.error().message;
  auto r = (*second)->run(req("echo fresh"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "fresh\n");
  EXPECT_EQ(pool.total_stats().execs, 2u) << "counters of the replaced session are kept";
}

}  // namespace
}  // namespace kbz
