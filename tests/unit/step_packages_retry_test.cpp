// The packages apply script, run for real through /bin/sh with a fake apt-get first in PATH: retries only on
// fetch errors (apt-get update between tries, at most 3 retries), fails at once on anything else.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kbz/engine/steps/packages.hpp"
#include "kbz/runners/local_connection.hpp"

namespace fs = std::filesystem;
using namespace kbz;

namespace {

class AptRetry : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kbz-apt-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // apt-get that fails `failures` times with `message`, then succeeds; logs every call.
  void fake_apt(int failures, const std::string& message) {
    const fs::path p = dir_ / "apt-get";
    std::ofstream(p) << "#!/bin/sh\necho \"$*\" >> " << (dir_ / "calls").string() << "\n"
                     << "[ \"$1\" = update ] && exit 0\n"
                     << "n=$(grep -c '^install' " << (dir_ / "calls").string() << ")\n"
                     << "if [ \"$n\" -le " << failures << " ]; then echo '" << message << "'; exit 100; fi\n"
                     << "echo \"DEBIAN_FRONTEND=$DEBIAN_FRONTEND\"; exit 0\n";
    fs::permissions(p, fs::perms::owner_all);
  }
  ExecResult run_install() {
    LocalConnection local(Host{});
    auto r =
        local.run({"PATH=" + dir_.string() + ":$PATH KBZ_APT_BACKOFF_S=0; export PATH KBZ_APT_BACKOFF_S\n" +
                       apt_install_command({"jq=1.7.1-3", "curl"}),
                   "", Privilege::AsUser, Millis{30000}});
    EXPECT_TRUE(r) << r.error().message;
    return *r;
  }
  std::string calls() {
    std::ifstream in(dir_ / "calls");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

TEST_F(AptRetry, FetchErrorIsRetriedAfterAnUpdate) {
  fake_apt(
      2, "E: Failed to fetch http://archive.ubuntu.com/ubuntu/pool/main/j/jq.deb  503  Service Unavailable");
  const auto r = run_install();
  EXPECT_EQ(r.exit_status, 0) << r.out;
  EXPECT_NE(r.out.find("DEBIAN_FRONTEND=noninteractive"), std::string::npos);
  const std::string install =
      "install -y -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300 jq=1.7.1-3 curl\n";
  EXPECT_EQ(calls(), install + "update -o DPkg::Lock::Timeout=300\n" + install +
                         "update -o DPkg::Lock::Timeout=300\n" + install);
}

TEST_F(AptRetry, GivesUpAfterThreeRetries) {
  fake_apt(
      10, "E: Failed to fetch http://archive.ubuntu.com/x  Temporary failure resolving 'archive.ubuntu.com'");
  const auto r = run_install();
  EXPECT_EQ(r.exit_status, 100);
  size_t installs = 0;
  for (size_t at = 0; (at = calls().find("install -y", at)) != std::string::npos; ++at) ++installs;
  EXPECT_EQ(installs, 4u) << calls();
}

TEST_F(AptRetry, OtherErrorsFailAtOnce) {
  fake_apt(1, "E: Sub-process /usr/bin/dpkg returned an error code (1)");
  const auto r = run_install();
  EXPECT_EQ(r.exit_status, 100);
  EXPECT_EQ(calls().find("update"), std::string::npos) << calls();
  EXPECT_NE(r.out.find("dpkg returned an error code"), std::string::npos);
}

}  // namespace
