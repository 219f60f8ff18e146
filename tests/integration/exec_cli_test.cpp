// `kbz-install exec` end to end on 50 real sshd daemons: per-host output, summary, --json counters, a host
// down, host-key refusal through the CLI, inventory errors, the run log.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "sshd_fixture.hpp"

namespace kbz {
namespace {

// ctest runs every test in its own process, so the 50-daemon fleet (~5 s to start here) serves one test;
// the other CLI behaviours run on a 12-host fleet.
template <size_t kHosts>
class CliFleet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sshd_skip_reason().empty()) return;
    fleet_ = new test::SshdFleet(kHosts);
    inventory_ = new std::filesystem::path(fleet_->write_servers_tsv());
  }
  static void TearDownTestSuite() {
    delete fleet_;
    delete inventory_;
    fleet_ = nullptr;
    inventory_ = nullptr;
  }
  void SetUp() override {
    if (auto why = test::sshd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    workdir_ = fleet_->dir() / ("work-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(workdir_);
  }
  test::ProcessResult kbz(std::vector<std::string> extra, const std::vector<std::string>& command,
                          const std::string& known_hosts = "") {
    std::vector<std::string> argv = {KBZ_BINARY, "--inventory", inventory_->string(), "--identity",
                                     fleet_->client_key().string(), "--known-hosts",
                                     known_hosts.empty() ? fleet_->known_hosts().string() : known_hosts,
                                     "--connect-timeout", "5", "--workdir", workdir_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("exec");
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return test::run_process(argv, {"SSH_AUTH_SOCK="});
  }
  static inline test::SshdFleet* fleet_ = nullptr;
  static inline std::filesystem::path* inventory_ = nullptr;
  std::filesystem::path workdir_;
};

using ExecCliFanout = CliFleet<50>;
using ExecCli = CliFleet<12>;

TEST_F(ExecCliFanout, FiftyHostsGroupedInInventoryOrder) {
  constexpr size_t kHosts = 50;
  auto r = kbz({}, {"echo", "out-$SSH_CONNECTION", ";", "echo", "err-line", ">&2"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), kHosts + 1) << r.out;
  for (size_t i = 0; i < kHosts; ++i) {
    // Each host's own output (its own address in SSH_CONNECTION), in inventory order.
    EXPECT_TRUE(lines[i].starts_with(fleet_->hostname(i) + ": out-")) << lines[i];
    EXPECT_NE(lines[i].find(" " + this->fleet_->address(i) + " 22"), std::string::npos) << lines[i];
  }
  EXPECT_EQ(lines.back(), "50 ok, 0 failed, 0 unreachable");
  EXPECT_NE(r.err.find("kbz-test-50: err-line"), std::string::npos) << r.err;

  // --json on the same fleet: the counters a benchmark reads.
  auto j = kbz({"--json"}, {"true"});
  ASSERT_EQ(j.exit_status, 0) << j.err;
  const auto last = j.out.rfind('\n', j.out.size() - 2);
  const auto summary = nlohmann::json::parse(j.out.substr(last + 1))["summary"];
  EXPECT_EQ(summary["ok"], 50);
  EXPECT_EQ(summary["execs"], 50);
}

TEST_F(ExecCli, JsonHasOneObjectPerHostAndTransportCounters) {
  auto r = kbz({"--json", "--hosts", "kbz-test-0*"}, {"echo hi; exit 0"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<nlohmann::json> objects;
  for (std::string l; std::getline(in, l);) objects.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(objects.size(), 10u) << r.out;  // kbz-test-01..09 + summary
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(objects[i]["host"], fleet_->hostname(i));
    EXPECT_EQ(objects[i]["address"], fleet_->address(i));
    EXPECT_EQ(objects[i]["exit_status"], 0);
    EXPECT_EQ(objects[i]["stdout"], "hi\n");
    EXPECT_EQ(objects[i]["stderr"], "");
    EXPECT_TRUE(objects[i]["error"].is_null());
    EXPECT_TRUE(objects[i]["duration_ms"].is_number());
  }
  const auto& s = objects.back()["summary"];
  EXPECT_EQ(s["ok"], 9);
  EXPECT_EQ(s["failed"], 0);
  EXPECT_EQ(s["unreachable"], 0);
  EXPECT_EQ(s["execs"], 9);
  EXPECT_GT(s["bytes_sent"].get<uint64_t>(), 0u);
  EXPECT_GT(s["bytes_received"].get<uint64_t>(), 0u);
}

TEST_F(ExecCli, FailuresAndAHostDownAreCountedAndDoNotStopOthers) {
  fleet_->stop(3);
  auto r = kbz({"--hosts", "kbz-test-0[1-6]"}, {"test \"$(echo $SSH_CONNECTION | cut -d' ' -f3)\" != 127.0.1.2 || exit 7"});
  fleet_->start(3);
  EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("4 ok, 1 failed, 1 unreachable"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("kbz-test-02: exit status 7"), std::string::npos) << r.err;
  std::smatch m;
  const std::regex down("kbz-test-04: kbz-test-04 \\(127\\.0\\.[0-9]+\\.4\\): cannot connect[^\n]*\n");
  EXPECT_TRUE(std::regex_search(r.err, m, down)) << r.err;
}

TEST_F(ExecCli, UnknownHostKeyRefusedThenAcceptedWithFlag) {
  const auto kh = workdir_ / "known_hosts";
  std::ofstream(kh).flush();
  auto refused = kbz({"--hosts", "kbz-test-07"}, {"true"}, kh.string());
  EXPECT_EQ(refused.exit_status, 1);
  EXPECT_NE(refused.err.find("unknown host key ssh-ed25519 SHA256:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--accept-new-host-keys"), std::string::npos) << refused.err;
  EXPECT_NE(refused.out.find("0 ok, 0 failed, 1 unreachable"), std::string::npos) << refused.out;
  auto accepted = kbz({"--hosts", "kbz-test-07", "--accept-new-host-keys"}, {"true"}, kh.string());
  EXPECT_EQ(accepted.exit_status, 0) << accepted.err;
  std::ifstream in(kh);
  std::string line;
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with(fleet_->address(6) + " ssh-ed25519 ")) << line;
}

TEST_F(ExecCli, BadInventoryIsExitTwo) {
  std::vector<std::string> argv = {KBZ_BINARY, "--inventory", (workdir_ / "missing.tsv").string(), "exec", "--", "true"};
  auto r = test::run_process(argv);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("missing.tsv"), std::string::npos) << r.err;
  auto sel = kbz({"--hosts", "no-such-host"}, {"true"});
  EXPECT_EQ(sel.exit_status, 2) << sel.err;
}

TEST_F(ExecCli, RunLogIsWritten) {
  auto r = kbz({"--hosts", "kbz-test-1*"}, {"echo logged-output"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<std::filesystem::path> logs;
  for (const auto& e : std::filesystem::directory_iterator(workdir_ / "logs")) logs.push_back(e.path());
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_TRUE(std::regex_match(logs[0].filename().string(), std::regex("[0-9]{8}T[0-9]{6}Z-exec\\.log")))
      << logs[0];
  std::ifstream in(logs[0]);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("kbz-test-10 (" + fleet_->address(9) + "): `echo logged-output` exit 0"), std::string::npos) << text;
  EXPECT_NE(text.find("logged-output\n"), std::string::npos) << text;
  EXPECT_NE(text.find("3 ok, 0 failed, 0 unreachable"), std::string::npos) << text;
}

}  // namespace
}  // namespace kbz
