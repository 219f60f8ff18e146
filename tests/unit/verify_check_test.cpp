#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kbz/core/secret.hpp"
#include "kbz/verify/check_eval.hpp"

namespace kbz {
namespace {

// Real command output captured on Ubuntu 24.04 hosts, kept as fixtures.
std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KBZ_FIXTURES_DIR) + "/report/" + name);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

VerifyCheck ufw_check() {
  VerifyCheck c;
  c.id = "ufw-active";
  c.command = "ufw status verbose";
  c.expect_regex = "Status: active";
  c.value_regex = "Default: (.*)";
  return c;
}

TEST(VerifyCheck, PassTakesTheFirstCaptureAsValue) {
  auto r = evaluate_check(ufw_check(), "web-01", 0, fixture("ufw_status_verbose.txt"));
  EXPECT_EQ(r.status, CheckStatus::Pass);
  EXPECT_EQ(r.value, "deny (incoming), allow (outgoing), disabled (routed)");
  EXPECT_EQ(r.host, "web-01");
  EXPECT_EQ(r.check_id, "ufw-active");
  EXPECT_TRUE(r.detail.empty());
}

TEST(VerifyCheck, RegexMissingFailsAndSaysWhy) {
  auto r = evaluate_check(ufw_check(), "web-01", 0, fixture("ufw_status_inactive.txt"));
  EXPECT_EQ(r.status, CheckStatus::Fail);
  EXPECT_EQ(r.detail, "sortie sans « Status: active »");
  EXPECT_EQ(r.value, "Status: inactive");  // no capture: first non-empty line
}

// Found on the lab: every command ends its output with a newline, so an anchored `...$` never matched.
TEST(VerifyCheck, DollarAnchorsAtTheEndOfTheOutputDespiteTheFinalNewline) {
  VerifyCheck c;
  c.id = "lb-write";
  c.expect_regex = "^\\S+: OK role:master(; \\S+: OK role:master)*$";
  c.value_regex = "^(.*)$";
  auto r = evaluate_check(c, "redis-01", 0, "haproxy-01: OK role:master; haproxy-02: OK role:master\n");
  EXPECT_EQ(r.status, CheckStatus::Pass) << r.detail;
  EXPECT_EQ(r.value, "haproxy-01: OK role:master; haproxy-02: OK role:master");
  auto bad = evaluate_check(c, "redis-01", 0, "haproxy-01: OK role:master; haproxy-02: OK role:slave\n");
  EXPECT_EQ(bad.status, CheckStatus::Fail);
}

TEST(VerifyCheck, ExitStatusMustMatchExpectExit) {
  VerifyCheck c;
  c.id = "version-docker";
  c.command = "docker version --format '{{.Server.Version}}'";
  auto ok = evaluate_check(c, "h", 0, fixture("docker_version.txt"));
  EXPECT_EQ(ok.status, CheckStatus::Pass);
  EXPECT_EQ(ok.value, "27.5.1");  // leading blank line skipped
  auto bad = evaluate_check(c, "h", 1, fixture("docker_denied.txt"));
  EXPECT_EQ(bad.status, CheckStatus::Fail);
  EXPECT_EQ(bad.detail, "code de sortie 1 (attendu 0)");
  c.expect_exit = 1;  // e.g. "grep -q forbidden" must NOT find it
  EXPECT_EQ(evaluate_check(c, "h", 1, "").status, CheckStatus::Pass);
}

TEST(VerifyCheck, BothReasonsAreGiven) {
  auto r = evaluate_check(ufw_check(), "h", 127, "sh: 1: ufw: not found\n");
  EXPECT_EQ(r.status, CheckStatus::Fail);
  EXPECT_EQ(r.detail, "code de sortie 127 (attendu 0) ; sortie sans « Status: active »");
}

TEST(VerifyCheck, WarningSeverityGivesWarnNotFail) {
  VerifyCheck c;
  c.id = "ntp-active";
  c.expect_regex = "NTP service: active";
  c.value_regex = "NTP service: (\\S+)";
  c.severity = Severity::Warning;
  const std::string out = fixture("timedatectl.txt");
  EXPECT_EQ(evaluate_check(c, "h", 0, out).status, CheckStatus::Pass);
  std::string inactive = out;
  inactive.replace(inactive.find("NTP service: active"), 19, "NTP service: inactive");
  auto r = evaluate_check(c, "h", 0, inactive);
  EXPECT_EQ(r.status, CheckStatus::Warn);
  EXPECT_EQ(r.value, "inactive");
}

TEST(VerifyCheck, ValueIsTrimmedCutTo80AndMasked) {
  VerifyCheck c;
  c.id = "x";
  const std::string long_line(200, 'a');
  EXPECT_EQ(measured_value(c, "   " + long_line + "  \nnext"), std::string(80, 'a') + "…");
  // A cut never splits a UTF-8 character.
  std::string accents;
  for (int i = 0; i < 60; ++i) accents += "é";
  const std::string v = measured_value(c, accents);
  EXPECT_EQ(v, accents.substr(0, 80) + "…");
  Secret s("hunter2-secret-value");
  EXPECT_EQ(measured_value(c, "pw hunter2-secret-value\n"), "pw ***");
  Masker::global().clear();
}

TEST(VerifyCheck, InvalidRegexIsALoadErrorNamingTheCheck) {
  VerifyCheck c;
  c.id = "bad";
  c.expect_regex = "([a-z";
  auto r = validate_check_regexes(c, "modules/02-base-os/module.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Input);
  EXPECT_NE(r.error().message.find("modules/02-base-os/module.yaml: verify check 'bad'"), std::string::npos);
  EXPECT_TRUE(validate_check_regexes(ufw_check(), "m"));
}

TEST(VerifyCheck, VersionChecksNameTheirComponent) {
  VerifyCheck c;
  c.id = "version-docker";
  EXPECT_TRUE(is_version_check(c));
  EXPECT_EQ(version_component(c), "docker");
  c.component = "Docker Engine";
  EXPECT_EQ(version_component(c), "Docker Engine");
  c.id = "docker-version";
  EXPECT_FALSE(is_version_check(c));

  // Two version checks in one component keep separate columns (named by their titles).
  Module m;
  VerifyCheck os, kernel, docker;
  os.id = "version-os";
  os.component = "Système";
  os.title_fr = "Système d'exploitation";
  kernel.id = "version-kernel";
  kernel.component = "Système";
  kernel.title_fr = "Noyau Linux";
  docker.id = "version-docker";
  docker.component = "Docker";
  m.checks = {os, kernel, docker};
  const auto keys = version_keys(m);
  EXPECT_EQ(keys.at("version-os"), "Système d'exploitation");
  EXPECT_EQ(keys.at("version-kernel"), "Noyau Linux");
  EXPECT_EQ(keys.at("version-docker"), "Docker");
}

}  // namespace
}  // namespace kbz
