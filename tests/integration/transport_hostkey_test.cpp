// Host keys against known_hosts: unknown refused (fingerprint + flag), accepted and recorded on request,
// changed always refused; hashed entries and the [host]:port form (daemons on port 2222 here).
#include <gtest/gtest.h>

#include <fstream>

#include "kbz/transport/connection.hpp"
#include "sshd_fixture.hpp"

namespace kbz {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string fingerprint_of(const std::filesystem::path& pub) {
  auto r = test::run_process({"/usr/bin/ssh-keygen", "-l", "-E", "sha256", "-f", pub.string()});
  std::istringstream s(r.out);
  std::string bits, fp;
  s >> bits >> fp;
  return fp;  // "SHA256:..."
}

class TransportHostKey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sshd_skip_reason().empty()) return;
    fleet_ = new test::SshdFleet(2, 2222);
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  void SetUp() override {
    if (auto why = test::sshd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  static ExecRequest req(std::string command) {
    ExecRequest r;
    r.command = std::move(command);
    r.privilege = Privilege::AsUser;
    return r;
  }
  static test::SshdFleet* fleet_;
};
test::SshdFleet* TransportHostKey::fleet_ = nullptr;

TEST_F(TransportHostKey, UnknownKeyIsRefusedWithFingerprintAndFlag) {
  auto options = fleet_->connect_options();
  options.known_hosts = fleet_->dir() / "empty_known_hosts";
  std::ofstream(options.known_hosts).flush();
  SessionPool pool(options);
  auto conn = pool.connect(fleet_->host(0));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().kind, ErrorKind::HostKey);
  const std::string fp = fingerprint_of(fleet_->dir() / "host1" / "host_key.pub");
  ASSERT_TRUE(fp.starts_with("SHA256:")) << fp;
  EXPECT_NE(conn.error().message.find(fp), std::string::npos) << conn.error().message;
  EXPECT_NE(conn.error().message.find("--accept-new-host-keys"), std::string::npos) << conn.error().message;
  EXPECT_EQ(read_text(options.known_hosts), "") << "strict mode must not write known_hosts";
}

TEST_F(TransportHostKey, AcceptNewRecordsTheKeyThenStrictAcceptsIt) {
  auto options = fleet_->connect_options();
  options.known_hosts = fleet_->dir() / "tofu" / "known_hosts";  // folder does not exist yet
  options.host_key_policy = HostKeyPolicy::AcceptNew;
  {
    SessionPool pool(options);
    auto conn = pool.connect(fleet_->host(1));
    ASSERT_TRUE(conn) << conn.error().message;
    auto r = (*conn)->run(req("echo first-use"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "first-use\n");
  }
  const std::string recorded = read_text(options.known_hosts);
  EXPECT_NE(recorded.find("[" + fleet_->address(1) + "]:2222"), std::string::npos) << recorded;
  options.host_key_policy = HostKeyPolicy::Strict;
  SessionPool strict(options);
  auto again = strict.connect(fleet_->host(1));
  EXPECT_TRUE(again) << again.error().message;
}

TEST_F(TransportHostKey, HashedEntriesAreHonoured) {
  const auto hashed = fleet_->dir() / "hashed_known_hosts";
  std::ofstream(hashed) << fleet_->known_hosts_line(0) << "\n";
  ASSERT_EQ(test::run_process({"/usr/bin/ssh-keygen", "-H", "-f", hashed.string()}).exit_status, 0);
  const std::string text = read_text(hashed);
  ASSERT_TRUE(text.starts_with("|1|")) << text;
  ASSERT_EQ(text.find(fleet_->address(0)), std::string::npos);
  auto options = fleet_->connect_options();
  options.known_hosts = hashed;
  SessionPool pool(options);
  auto conn = pool.connect(fleet_->host(0));
  EXPECT_TRUE(conn) << conn.error().message;
}

TEST_F(TransportHostKey, ChangedKeyIsRefusedEvenWithAcceptNew) {
  const auto snapshot = fleet_->dir() / "before_change";
  std::filesystem::copy_file(fleet_->known_hosts(), snapshot, std::filesystem::copy_options::overwrite_existing);
  fleet_->replace_host_key(0);
  auto options = fleet_->connect_options();
  options.known_hosts = snapshot;
  options.host_key_policy = HostKeyPolicy::AcceptNew;
  SessionPool pool(options);
  auto conn = pool.connect(fleet_->host(0));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().kind, ErrorKind::HostKey);
  EXPECT_NE(conn.error().message.find("HOST KEY CHANGED"), std::string::npos) << conn.error().message;
  const std::string fp = fingerprint_of(fleet_->dir() / "host1" / "host_key.pub");
  EXPECT_NE(conn.error().message.find(fp), std::string::npos) << conn.error().message;
  EXPECT_EQ(read_text(snapshot), read_text(fleet_->known_hosts())) << "the old entry must stay untouched";
  // We stopped before authenticating, so nothing can have run there.
  EXPECT_EQ(fleet_->log(0).find("Accepted publickey"), std::string::npos) << fleet_->log(0);
}

}  // namespace
}  // namespace kbz
