// plan/apply end to end over real sshd daemons (tests/integration/sshd_fixture.hpp), as the non-root test
// user with sudo. The test module (tests/fixtures/modules/90-sample) is copied with its root folder filled in
// so every "host" (all of them this machine) writes under its own temp folder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "kbz/engine/workdir_lock.hpp"
#include "sshd_fixture.hpp"

namespace fs = std::filesystem;

namespace kbz {
namespace {
constexpr const char* kHostLock = "host_lock: /run/kbz-install-{host}.lock\n";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

class EngineCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sshd_skip_reason().empty()) return;
    fleet_ = new test::SshdFleet(3);
    inventory_ = new fs::path(fleet_->write_servers_tsv());
  }
  static void TearDownTestSuite() {
    delete fleet_;
    delete inventory_;
    fleet_ = nullptr;
    inventory_ = nullptr;
  }
  void SetUp() override {
    if (auto why = test::sshd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    workdir_ = fleet_->dir() / ("engine-" + name);
    root_ = workdir_ / "hosts";
    fs::create_directories(root_);
    // The test hosts share this machine's /run: one lock per host, as real servers have.
    std::ofstream(workdir_ / "kbz.yaml") << kHostLock;
    write_module("none");
  }
  // The fixture module with settings.test.* replaced by this test's values (kbz.yaml has no test keys).
  void write_module(const std::string& fail_host) {
    const fs::path src = fs::path(KBZ_FIXTURES_DIR) / "modules" / "90-sample";
    const fs::path dst = workdir_ / "modules" / "90-sample";
    fs::remove_all(dst);
    fs::create_directories(dst / "templates");
    std::string yaml = replace_all(slurp(src / "module.yaml"), "{{settings.test.root}}", root_.string());
    yaml = replace_all(yaml, "{{settings.test.fail_host}}", fail_host);
    std::ofstream(dst / "module.yaml") << yaml;
    fs::copy_file(src / "templates" / "app.conf.mustache", dst / "templates" / "app.conf.mustache");
  }
  test::ProcessResult kbz(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {KBZ_BINARY,
                                     "--inventory",
                                     inventory_->string(),
                                     "--identity",
                                     fleet_->client_key().string(),
                                     "--known-hosts",
                                     fleet_->known_hosts().string(),
                                     "--connect-timeout",
                                     "5",
                                     "--workdir",
                                     workdir_.string(),
                                     "--config",
                                     (workdir_ / "kbz.yaml").string(),
                                     "--modules-dir",
                                     (workdir_ / "modules").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_process(argv, {"SSH_AUTH_SOCK="});
  }
  nlohmann::json apply_json(const std::vector<std::string>& extra = {}, int expect_exit = 0) {
    std::vector<std::string> args = {"--json", "apply", "--module", "90"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = kbz(args);
    EXPECT_EQ(r.exit_status, expect_exit) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  fs::path app(size_t i) const { return root_ / fleet_->hostname(i) / "app"; }
  fs::path host_lock(size_t i) const { return "/run/kbz-install-" + fleet_->hostname(i) + ".lock"; }

  static inline test::SshdFleet* fleet_ = nullptr;
  static inline fs::path* inventory_ = nullptr;
  fs::path workdir_, root_;
};

TEST_F(EngineCli, PlanApplyThenANoOpReapplyInTwoExecsPerHost) {
  auto plan = kbz({"plan", "--module", "90"});
  EXPECT_EQ(plan.exit_status, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("kbz-test-01: 6 to change, 0 ok"), std::string::npos) << plan.out;
  EXPECT_FALSE(fs::exists(app(0))) << "plan changed nothing";

  const auto first = apply_json();
  ASSERT_FALSE(first.is_discarded());
  EXPECT_EQ(first["kind"], "apply");
  EXPECT_EQ(first["module"], 90);
  ASSERT_EQ(first["hosts"].size(), 3u);
  for (const auto& h : first["hosts"]) {
    EXPECT_EQ(h["failed"], 0) << h.dump();
    EXPECT_EQ(h["changed"], 5) << h.dump();  // 4 steps + the handler (ready was ok after the re-check)
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(slurp(app(i) / "app.conf").find("listen=" + fleet_->host(i).private_ip), std::string::npos);
    EXPECT_EQ(slurp(app(i) / "marker"), "os=debian role=" + fleet_->host(i).role + "\n");
    EXPECT_TRUE(fs::exists(app(i) / "reloaded"));
  }

  const auto second = apply_json();
  for (const auto& h : second["hosts"]) {
    EXPECT_EQ(h["changed"], 0) << h.dump();
    EXPECT_EQ(h["ok"], 5) << h.dump();
    EXPECT_LE(h["transport"]["execs"].get<int>(), 2) << "batch + lock release";
  }
  EXPECT_EQ(second["totals"]["changed"], 0);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_FALSE(fs::exists(host_lock(i))) << "host lock released on " << fleet_->hostname(i);

  // The last apply changed nothing: this one's checks also release the lock, in the same exec.
  const auto third = apply_json();
  for (const auto& h : third["hosts"]) {
    EXPECT_EQ(h["changed"], 0) << h.dump();
    EXPECT_EQ(h["transport"]["execs"].get<int>(), 1) << "checks + lock release in one exec";
  }
  EXPECT_FALSE(fs::exists("/run/kbz-install.lock")) << "host lock released";

  // Still notices a drifted file, and repairs it (under the lock, taken again).
  std::ofstream(app(1) / "app.conf") << "listen=0.0.0.0\n";
  const auto fourth = apply_json();
  EXPECT_EQ(fourth["totals"]["changed"], 2) << fourth.dump() << ": app.conf and its handler";
  EXPECT_NE(slurp(app(1) / "app.conf").find("listen=" + fleet_->host(1).private_ip), std::string::npos);
  EXPECT_FALSE(fs::exists("/run/kbz-install.lock")) << "host lock released";

  auto replan = kbz({"plan", "--module", "90"});
  EXPECT_EQ(replan.exit_status, 0);
  EXPECT_NE(replan.out.find("3 host(s): 0 with changes pending, 3 up to date"), std::string::npos)
      << replan.out;
}

TEST_F(EngineCli, AFailingStepOnOneHostDoesNotStopTheOthers) {
  write_module(fleet_->hostname(1));
  const auto run = apply_json({}, 1);
  ASSERT_FALSE(run.is_discarded());
  for (size_t i = 0; i < 3; ++i) {
    const auto& h = run["hosts"][i];
    EXPECT_EQ(h["host"], fleet_->hostname(i));
    if (i == 1) {
      EXPECT_EQ(h["failed"], 1) << h.dump();
      EXPECT_EQ(h["steps"][3]["status"], "failed");
      EXPECT_EQ(h["steps"][3]["message"], "exit 3: boom on " + fleet_->hostname(1));
      EXPECT_EQ(h["steps"][4]["status"], "skipped");
    } else {
      EXPECT_EQ(h["failed"], 0) << h.dump();
      EXPECT_TRUE(fs::exists(app(i) / "done"));
    }
  }
  // The text output: one line per step per host, then the recap.
  auto text = kbz({"apply", "--module", "90"});
  EXPECT_EQ(text.exit_status, 1);
  EXPECT_TRUE(std::regex_search(
      text.out, std::regex("kbz-test-02\\s+maybe-fail  failed: exit 3: boom on kbz-test-02\n")))
      << text.out;
  EXPECT_TRUE(
      std::regex_search(text.out, std::regex("\nhost\\s+ok\\s+changed\\s+failed\\s+skipped\\s+duration\n")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("kbz-test-01\\s+5\\s+0\\s+0\\s+0\\s"))) << text.out;
}

TEST_F(EngineCli, FromStep) {
  auto unknown = kbz({"apply", "--module", "90", "--from-step", "nope"});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_NE(unknown.err.find("--from-step nope: no such step in module 90 (steps: app-dir, app-conf, marker, "
                             "maybe-fail, ready)"),
            std::string::npos)
      << unknown.err;
  for (size_t i = 0; i < 3; ++i) fs::create_directories(app(i));
  const auto run = apply_json({"--from-step", "maybe-fail"});
  for (const auto& h : run["hosts"]) {
    EXPECT_EQ(h["steps"][0]["status"], "skipped");
    EXPECT_EQ(h["steps"][0]["message"], "before --from-step maybe-fail");
    EXPECT_EQ(h["steps"][3]["status"], "changed");
  }
  EXPECT_FALSE(fs::exists(app(0) / "app.conf"));
}

TEST_F(EngineCli, LocalAndHostLocksRefuseASecondRun) {
  // Local: a live holder (this test process) on this machine.
  fs::create_directories(workdir_ / ".kbz");
  std::ofstream(workdir_ / ".kbz" / "lock") << "pid=" << getpid() << "\nhostname=" << this_hostname()
                                            << "\nstarted=2026-11-27T10:00:00Z\ncommand=apply --module 90\n";
  auto local = kbz({"apply", "--module", "90"});
  EXPECT_EQ(local.exit_status, 2);
  EXPECT_NE(local.err.find("another kbz-install run holds"), std::string::npos) << local.err;
  EXPECT_NE(local.err.find("pid " + std::to_string(getpid())), std::string::npos) << local.err;
  fs::remove(workdir_ / ".kbz" / "lock");

  // Host: another run's lock on every host (each fleet host has its own lock path, kHostLock).
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_FALSE(fs::exists(host_lock(i))) << "a stale host lock from elsewhere; refusing to touch it";
    fs::create_directories(host_lock(i));
    std::ofstream(host_lock(i) / "info")
        << "installer=install-01\npid=4242\nrun_id=someone-else\nstarted=2026-11-27T10:00:00Z\n";
  }
  const auto run = apply_json({}, 1);
  for (const auto& h : run["hosts"]) {
    EXPECT_NE(h["error"].get<std::string>().find(
                  "host lock held by another run: held by: installer=install-01 pid=4242"),
              std::string::npos)
        << h.dump();
    EXPECT_EQ(h["skipped"], 5);
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(fs::exists(host_lock(i) / "info")) << "another run's lock is never removed";
    fs::remove_all(host_lock(i));
  }
  EXPECT_FALSE(fs::exists(app(0)));
}

TEST_F(EngineCli, SecretsNeverAppearInLogsStatePlanOrRemoteArgv) {
  auto init = kbz({"credentials", "init", "--module", "90"});
  ASSERT_EQ(init.exit_status, 0) << init.err;
  EXPECT_NE(init.out.find("SAMPLE_TOKEN  created"), std::string::npos) << init.out;
  const std::string env = slurp(workdir_ / "credentials" / "sample.env");
  const auto eq = env.find("SAMPLE_TOKEN=");
  ASSERT_NE(eq, std::string::npos);
  const std::string secret = env.substr(eq + 13, env.find('\n', eq) - eq - 13);
  ASSERT_EQ(secret.size(), 32u);

  auto apply = kbz({"apply", "--module", "90"});
  ASSERT_EQ(apply.exit_status, 0) << apply.out << apply.err;
  EXPECT_NE(slurp(app(0) / "app.conf").find("token=" + secret), std::string::npos)
      << "the secret was really used";

  // Force a diff whose context shows the token line.
  std::string conf = slurp(app(0) / "app.conf");
  std::ofstream(app(0) / "app.conf") << replace_all(conf, "listen=", "listen=0.0.0.0#");
  auto plan = kbz({"plan", "--module", "90"});
  EXPECT_EQ(plan.exit_status, 0) << plan.err;
  EXPECT_NE(plan.out.find(" token=(secret)"), std::string::npos) << plan.out;
  auto json_plan = kbz({"--json", "plan", "--module", "90"});

  std::vector<std::pair<std::string, std::string>> places = {
      {"apply output", apply.out + apply.err},
      {"plan output", plan.out + plan.err},
      {"plan --json", json_plan.out + json_plan.err},
      {"credentials init output", init.out + init.err},
      {".kbz/state.json", slurp(workdir_ / ".kbz" / "state.json")}};
  size_t logs = 0;
  for (const auto& e : fs::recursive_directory_iterator(workdir_ / "logs"))
    if (e.is_regular_file()) places.emplace_back(e.path().string(), slurp(e.path())), ++logs;
  EXPECT_GE(logs, 3u);
  for (size_t i = 0; i < fleet_->size(); ++i)
    places.emplace_back("sshd log " + fleet_->hostname(i), fleet_->log(i));
  for (const auto& [where, text] : places) {
    EXPECT_FALSE(text.empty()) << where;
    EXPECT_EQ(text.find(secret), std::string::npos) << "secret found in " << where;
  }
  // The daemon's log does record the remote commands (so the check above means something).
  EXPECT_NE(fleet_->log(0).find("sh -s"), std::string::npos);
}

// verify --json: per-host counts and per-check results for scripts, the French report written as well, and
// one host's failure visible without hiding the others.
TEST_F(EngineCli, VerifyJsonGivesEveryHostAndCheck) {
  ASSERT_EQ(apply_json()["totals"]["failed"], 0);
  auto ok = kbz({"--json", "verify", "--module", "90"});
  EXPECT_EQ(ok.exit_status, 0) << ok.out << ok.err;
  const auto doc = nlohmann::json::parse(ok.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << ok.out;
  ASSERT_EQ(doc["modules"].size(), 1u);
  const auto& m = doc["modules"][0];
  EXPECT_EQ(m["module"], 90);
  EXPECT_EQ(m["status"], "validated");
  EXPECT_TRUE(fs::exists(m["report"].get<std::string>())) << m["report"];
  ASSERT_EQ(m["hosts"].size(), 3u);
  for (const auto& h : m["hosts"]) EXPECT_EQ(h["pass"], 2) << h.dump();
  ASSERT_EQ(m["checks"].size(), 6u);
  EXPECT_EQ(m["checks"][0]["value"], "listen=" + fleet_->host(0).private_ip) << m["checks"][0].dump();

  write_module(fleet_->hostname(1));  // the second check now fails on host 1 only
  auto bad = kbz({"--json", "verify", "--module", "90"});
  EXPECT_EQ(bad.exit_status, 1) << bad.out << bad.err;
  const auto doc2 = nlohmann::json::parse(bad.out, nullptr, false);
  ASSERT_FALSE(doc2.is_discarded()) << bad.out;
  EXPECT_EQ(doc2["modules"][0]["status"], "failed");
  for (const auto& h : doc2["modules"][0]["hosts"]) {
    const bool failing = h["host"] == fleet_->hostname(1);
    EXPECT_EQ(h["fail"], failing ? 1 : 0) << h.dump();
    EXPECT_EQ(h["pass"], failing ? 1 : 2) << h.dump();
  }
}

// Every command writes its run log with every remote command (verify included), and one rule for a missing
// --config: a file named on the command line must exist, for plan/apply as for verify.
TEST_F(EngineCli, EveryRunIsLoggedAndANamedMissingConfigIsRefused) {
  ASSERT_EQ(apply_json()["totals"]["failed"], 0);
  ASSERT_EQ(kbz({"verify", "--module", "90"}).exit_status, 0);
  ASSERT_EQ(kbz({"plan", "--module", "90"}).exit_status, 0);
  ASSERT_EQ(kbz({"exec", "--", "true"}).exit_status, 0);
  std::map<std::string, std::string> logs;  // command -> log text
  for (const auto& e : fs::directory_iterator(workdir_ / "logs")) {
    const std::string name = e.path().filename().string();
    for (const char* cmd : {"apply", "verify", "plan", "exec"})
      if (name.find(std::string("-") + cmd) != std::string::npos) logs[cmd] += slurp(e.path());
  }
  for (const char* cmd : {"apply", "verify", "plan", "exec"}) {
    ASSERT_TRUE(logs.contains(cmd)) << "no log for " << cmd;
    EXPECT_NE(logs[cmd].find("connected in"), std::string::npos) << cmd << " logs its connections";
    EXPECT_NE(logs[cmd].find(fleet_->hostname(0)), std::string::npos) << cmd;
  }
  // verify's batch went on stdin: the log holds the script itself, so the check command is there.
  EXPECT_NE(logs["verify"].find("grep -x \"listen="), std::string::npos) << logs["verify"];

  fs::remove(workdir_ / "kbz.yaml");  // the fixture names it with --config: now a named file that is missing
  for (const char* cmd : {"plan", "apply", "verify"}) {
    auto r = kbz({cmd, "--module", "90"});
    EXPECT_EQ(r.exit_status, 2) << cmd << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("kbz.yaml: cannot read the settings file"), std::string::npos)
        << cmd << ": " << r.err;
  }
}

// apply --all: every module in order, each apply followed by its verify; the first failure stops the chain
// (later modules untouched) and says how to resume; --from-module resumes; each module run is archived.
TEST_F(EngineCli, ApplyAllStopsAtTheFirstFailureAndFromModuleResumes) {
  const fs::path later = workdir_ / "modules" / "92-later";
  fs::create_directories(later);
  std::ofstream(later / "module.yaml")
      << "number: 92\nid: later\ntitle: Later module\nsteps:\n"
      << "  - {id: mark, kind: command, check: 'test -f " << (root_ / "later").string() << "', apply: 'touch "
      << (root_ / "later").string() << "'}\n"
      << "verify:\n  - {id: marked, command: 'test -f " << (root_ / "later").string() << "'}\n";
  write_module(fleet_->hostname(1));  // module 90 fails on host 1
  auto failed = kbz({"apply", "--all"});
  EXPECT_EQ(failed.exit_status, 1) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("chain stopped at module 90 (apply)"), std::string::npos) << failed.out;
  EXPECT_NE(failed.out.find("apply --all --from-module 90"), std::string::npos) << failed.out;
  EXPECT_FALSE(fs::exists(root_ / "later")) << "module 92 comes after the failure: untouched";

  write_module("none");
  auto resumed = kbz({"apply", "--all", "--from-module", "90"});
  EXPECT_EQ(resumed.exit_status, 0) << resumed.out << resumed.err;
  EXPECT_TRUE(fs::exists(root_ / "later"));
  EXPECT_NE(resumed.out.find("==> verify --module 92"), std::string::npos) << resumed.out;
  // SUIVI shows both modules done, each module run has its archive, named in its report.
  const std::string suivi = slurp(workdir_ / "SUIVI_INSTALLATION_V2.md");
  EXPECT_NE(suivi.find("✅"), std::string::npos) << suivi;
  size_t archives = 0;
  for (const auto& e : fs::directory_iterator(workdir_ / "logs" / "archive"))
    archives += e.path().string().ends_with(".tar.gz");
  EXPECT_EQ(archives, 2u);
  const std::string report = slurp(workdir_ / "reports" / "RAPPORT_VALIDATION_MODULE92.md");
  EXPECT_NE(report.find("| Archive des journaux | `logs/archive/"), std::string::npos);
  std::smatch named;
  ASSERT_TRUE(std::regex_search(report, named, std::regex("logs/archive/[^`]+\\.tar\\.gz"))) << report;
  auto listing = test::run_process({"/bin/tar", "tzf", (workdir_ / named.str()).string()}, {});
  EXPECT_EQ(listing.exit_status, 0) << listing.err;
  EXPECT_NE(listing.out.find("reports/RAPPORT_VALIDATION_MODULE92.md"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("SUIVI_INSTALLATION_V2.md"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("apply-module92"), std::string::npos) << "the module's apply log" << listing.out;
  EXPECT_EQ(listing.out.find("credentials"), std::string::npos);
}

// preflight: one exec per host, a table; apply refuses a host whose preflight fails before changing anything
// (here: the module says it will listen on 22, which the test's sshd holds), --skip-preflight forces it.
TEST_F(EngineCli, PreflightRefusesAHostBeforeApplyChangesItUnlessSkipped) {
  std::ofstream(workdir_ / "kbz.yaml")
      << kHostLock << "preflight: {dns_name: localhost, min_free_root_gb: 0}\n";
  auto ready = kbz({"preflight", "--module", "90"});
  EXPECT_EQ(ready.exit_status, 0) << ready.out << ready.err;
  EXPECT_NE(ready.out.find("disk-root"), std::string::npos) << ready.out;
  EXPECT_NE(ready.out.find("3 host(s): 3 ready, 0 failed"), std::string::npos) << ready.out;

  const fs::path yaml = workdir_ / "modules" / "90-sample" / "module.yaml";
  std::string text = slurp(yaml);
  text = replace_all(text, "credentials:\n", "listens:\n  - {port: 22, owner: not-sshd}\ncredentials:\n");
  std::ofstream(yaml) << text;
  auto held = kbz({"preflight", "--module", "90"});
  EXPECT_EQ(held.exit_status, 1) << held.out;
  EXPECT_NE(held.out.find("port-22/tcp"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("held by"), std::string::npos) << held.out;

  const auto refused = apply_json({}, 1);
  for (const auto& h : refused["hosts"]) {
    EXPECT_EQ(h["changed"], 0) << h.dump();
    EXPECT_NE(h["error"].get<std::string>().find("preflight: port-22/tcp: 22/tcp held by"), std::string::npos)
        << h.dump();
  }
  EXPECT_FALSE(fs::exists(app(0))) << "nothing changed on a refused host";
  const auto forced = apply_json({"--skip-preflight"}, 0);
  EXPECT_EQ(forced["totals"]["failed"], 0) << forced.dump();
  EXPECT_TRUE(fs::exists(app(0)));
}

// The preflight guards changes. A re-apply expected to be a no-op leaves it out of its one exec; a host that
// turns out to need a change is checked again under the lock with the preflight, which still refuses it.
TEST_F(EngineCli, AnExpectedNoOpSkipsThePreflightButAChangeStillFacesIt) {
  std::ofstream(workdir_ / "kbz.yaml")
      << kHostLock << "preflight: {dns_name: localhost, min_free_root_gb: 0}\n";
  ASSERT_EQ(apply_json()["totals"]["failed"], 0);
  ASSERT_EQ(apply_json()["totals"]["changed"], 0);  // recorded as a no-op: the next apply is optimistic

  const fs::path yaml = workdir_ / "modules" / "90-sample" / "module.yaml";
  std::string text = slurp(yaml);
  text = replace_all(text, "credentials:\n", "listens:\n  - {port: 22, owner: not-sshd}\ncredentials:\n");
  std::ofstream(yaml) << text;  // from now on the preflight fails on every host (sshd holds 22)
  const auto no_op = apply_json();
  for (const auto& h : no_op["hosts"]) {
    EXPECT_EQ(h["changed"], 0) << h.dump();
    EXPECT_EQ(h["failed"], 0) << h.dump();
    EXPECT_EQ(h["transport"]["execs"].get<int>(), 1) << "checks + lock release, no preflight: " << h.dump();
  }

  std::ofstream(app(1) / "app.conf") << "listen=0.0.0.0\n";  // host 1 now needs a change
  const auto refused = apply_json({}, 1);
  for (const auto& h : refused["hosts"]) {
    EXPECT_EQ(h["changed"], 0) << h.dump();
    if (h["host"] == fleet_->hostname(1))
      EXPECT_NE(h["error"].get<std::string>().find("preflight: port-22/tcp"), std::string::npos) << h.dump();
    else
      EXPECT_EQ(h["failed"], 0) << h.dump();
  }
  EXPECT_EQ(slurp(app(1) / "app.conf"), "listen=0.0.0.0\n") << "nothing changed on the refused host";
  for (size_t i = 0; i < 3; ++i)
    EXPECT_FALSE(fs::exists(host_lock(i))) << "host lock released on " << fleet_->hostname(i);
}

}  // namespace
}  // namespace kbz
