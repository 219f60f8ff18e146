// The volume step for real: its own check and apply scripts run through /bin/sh (LocalConnection) with the
// real blkid -p, wipefs -n, lsblk, findmnt, mkfs.xfs and mount against loop devices over sparse files. The
// test process first enters a private mount namespace and bind-mounts a temp file over /etc/fstab, so the
// machine's fstab and mounts never change (they vanish with the process). Skipped without root, losetup,
// mkfs.xfs or mount namespaces. The disk is named with `device:` (this machine has no /dev/disk/by-id, so
// the discovery of /dev/disk/by-id/scsi-0HC_Volume_* is proven by the fixtures only).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kbz/core/text.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/runners/local_connection.hpp"

namespace fs = std::filesystem;
using namespace kbz;

namespace {

ExecResult sh(const std::string& cmd) {
  LocalConnection local(Host{});
  auto r = local.run({cmd, "", Privilege::AsUser, Millis{120000}});
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : ExecResult{};
}

bool have(const char* tool) { return sh(std::string("command -v ") + tool + " >/dev/null").exit_status == 0; }

class VolumeReal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0 || !have("losetup") || !have("mkfs.xfs") || !have("blkid") || !have("wipefs")) {
      skip_ = "needs root, losetup and xfsprogs (scripts/install-deps.sh)";
      return;
    }
    dir_ = fs::temp_directory_path() / ("kbz-vol-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    // Our own mount namespace: every mount and the fstab below stay inside this process.
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      skip_ = "no private mount namespace here";
      return;
    }
    // Loop devices may be missing (a CI container): then there is nothing real to run against.
    const auto probe = (dir_ / "probe.img").string();
    if (sh("truncate -s 1M " + probe + " && d=$(losetup -f --show " + probe + ") && losetup -d \"$d\"")
            .exit_status != 0) {
      skip_ = "no loop device available here (losetup -f failed)";
      return;
    }
    std::ofstream(dir_ / "fstab") << "# test fstab\n";
    if (mount((dir_ / "fstab").c_str(), "/etc/fstab", nullptr, MS_BIND, nullptr) != 0) {
      skip_ = "cannot bind-mount a test /etc/fstab";
      return;
    }
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) {
      umount2("/etc/fstab", MNT_DETACH);
      fs::remove_all(dir_);
    }
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  void TearDown() override {
    for (const auto& m : mounts_) sh("umount " + shell_quote(m) + " 2>/dev/null");
    for (const auto& l : loops_) sh("losetup -d " + l);
    std::ofstream(dir_ / "fstab") << "# test fstab\n";
  }

  // A sparse image on a loop device.
  std::string loop(const std::string& name, const std::string& size = "512M") {
    const auto img = (dir_ / (name + ".img")).string();
    auto r = sh("truncate -s " + size + " " + shell_quote(img) + " && losetup -f --show " + shell_quote(img));
    EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
    const std::string dev(trim(r.out, " \t\n"));
    loops_.push_back(dev);
    return dev;
  }

  // kbz.yaml with one volume for vol-01 on `dev`, the module with one volume step, and the decision.
  Result<StepDecision> decide_for(const std::string& dev, int min_gb = 0,
                                  const std::string& label = "kbz-test") {
    mount_ = (dir_ / "data").string();
    mounts_.push_back(mount_);
    auto s = parse_settings("volumes:\n  - {hosts: vol-01, mount: " + mount_ + ", min_gb: " +
                                std::to_string(min_gb) + ", device: " + dev + ", label: " + label + "}\n",
                            "kbz.yaml");
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    auto m =
        parse_module("number: 1\nid: t\ntitle: t\nsteps:\n  - {id: data-volume, kind: volume}\n", "t.yaml");
    EXPECT_TRUE(m) << (m ? "" : m.error().message);
    module_ = *m;
    ctx_.host.hostname = "vol-01";
    ctx_.settings = s->raw;
    const Step& step = module_.steps.at(0);
    auto check = render_check(step, module_, ctx_);
    EXPECT_TRUE(check);
    const auto out = sh("( " + *check + "\n) 2>&1");
    return decide(step, module_, CheckOutput{out.exit_status, out.out}, ctx_);
  }

  ExecResult apply(const StepDecision& d) { return sh("( " + d.apply.command + "\n) 2>&1"); }
  std::string blkid(const std::string& dev) { return sh("blkid -p -o export " + dev).out; }
  std::string fstab() { return sh("cat /etc/fstab").out; }

  static inline std::string skip_;
  static inline fs::path dir_;
  std::vector<std::string> loops_, mounts_;
  std::string mount_;
  Module module_;
  TemplateContext ctx_;
};

TEST_F(VolumeReal, BlankDiskIsFormattedMountedByUuidAndReapplyChangesNothing) {
  const auto dev = loop("blank");
  auto d = decide_for(dev);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(d->change);
  EXPECT_NE(d->message.find("format " + dev), std::string::npos) << d->message;
  const auto r = apply(*d);
  ASSERT_EQ(r.exit_status, 0) << r.out;
  const auto id = blkid(dev);
  EXPECT_NE(id.find("TYPE=xfs"), std::string::npos) << id;
  EXPECT_NE(id.find("LABEL=kbz-test"), std::string::npos) << id;
  const std::string uuid = sh("blkid -p -s UUID -o value " + dev).out;
  EXPECT_NE(fstab().find("UUID=" + std::string(trim(uuid, "\n")) + " " + mount_ +
                         " xfs defaults,noatime,nofail 0 2"),
            std::string::npos)
      << fstab();
  EXPECT_EQ(sh("findmnt -n -o FSTYPE --mountpoint " + mount_).out, "xfs\n");

  auto again = decide_for(dev);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->change) << again->message;

  // A reboot: the mount is gone, the fstab line brings it back (mount -a reads only the test fstab).
  ASSERT_EQ(sh("umount " + mount_ + " && mount -a && findmnt -n -o SOURCE --mountpoint " + mount_).out,
            dev + "\n");
  auto after_boot = decide_for(dev);
  ASSERT_TRUE(after_boot) << after_boot.error().message;
  EXPECT_FALSE(after_boot->change) << after_boot->message;

  // Unmounted (nofail boot without the disk, then attached): mounted again, never formatted again.
  sh("umount " + mount_);
  auto remount = decide_for(dev);
  ASSERT_TRUE(remount) << remount.error().message;
  ASSERT_TRUE(remount->change);
  EXPECT_EQ(remount->apply.command.find("mkfs"), std::string::npos);
  ASSERT_EQ(apply(*remount).exit_status, 0);
  EXPECT_EQ(blkid(dev), id) << "same filesystem, same UUID";
  EXPECT_EQ(sh("grep -c nofail /etc/fstab").out, "1\n") << fstab();
}

// Whatever is on the disk, the step refuses it naming host, device and what it found, and leaves it as it
// was.
TEST_F(VolumeReal, DiskWithAFilesystemIsRefusedAndLeftIntact) {
  const auto dev = loop("ext4");
  ASSERT_EQ(sh("mkfs.ext4 -q -F -L team-data " + dev).exit_status, 0);
  const auto before = sh("head -c 1048576 " + dev + " | sha256sum").out;
  auto d = decide_for(dev);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("vol-01: data volume for " + mount_ + ": " + dev +
                                   " is not blank (TYPE=ext4, "
                                   "LABEL=team-data"),
            std::string::npos)
      << d.error().message;
  EXPECT_EQ(sh("head -c 1048576 " + dev + " | sha256sum").out, before);
  EXPECT_EQ(fstab(), "# test fstab\n");
}

TEST_F(VolumeReal, XfsWithAnotherLabelIsRefused) {
  const auto dev = loop("xfs-other");
  ASSERT_EQ(sh("mkfs.xfs -q -L backup " + dev).exit_status, 0);
  auto d = decide_for(dev);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("is not blank (TYPE=xfs, LABEL=backup"), std::string::npos)
      << d.error().message;
}

TEST_F(VolumeReal, PartitionTableIsRefused) {
  const auto dev = loop("gpt");
  // A bare GPT header written by hand (no sfdisk needed): blkid -p and wipefs both see a partition table.
  ASSERT_EQ(sh("printf 'label: gpt\\n' | sfdisk -q " + dev +
               " 2>/dev/null || "
               "{ printf '\\125\\252' | dd of=" +
               dev +
               " bs=1 seek=510 conv=notrunc status=none; "
               "printf '\\0\\0\\0\\0\\356' | dd of=" +
               dev + " bs=1 seek=446 conv=notrunc status=none; }")
                .exit_status,
            0);
  auto d = decide_for(dev);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("PTTYPE="), std::string::npos) << d.error().message;
}

TEST_F(VolumeReal, SwapSignatureIsRefused) {
  const auto dev = loop("swap");
  ASSERT_EQ(sh("mkswap -q " + dev).exit_status, 0);
  auto d = decide_for(dev);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("TYPE=swap"), std::string::npos) << d.error().message;
}

TEST_F(VolumeReal, DiskSmallerThanTheMinimumIsRefused) {
  const auto dev = loop("small");
  auto d = decide_for(dev, 1);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("is 0.5 GB, smaller than the 1 GB"), std::string::npos)
      << d.error().message;
  EXPECT_EQ(blkid(dev), "");
}

// The apply looks again right before mkfs.xfs: a filesystem written between plan and apply is not formatted.
TEST_F(VolumeReal, ApplyLooksAgainBeforeFormatting) {
  const auto dev = loop("race");
  auto d = decide_for(dev);
  ASSERT_TRUE(d && d->change);
  ASSERT_EQ(sh("mkfs.ext4 -q -F " + dev).exit_status, 0);
  const auto before = blkid(dev);
  const auto r = apply(*d);
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.out.find("is no longer blank"), std::string::npos) << r.out;
  EXPECT_EQ(blkid(dev), before);
  EXPECT_EQ(fstab(), "# test fstab\n");
}

}  // namespace
