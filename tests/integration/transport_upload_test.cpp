// SFTP uploads: atomic replace, idempotence by sha256, mode/owner, big files streamed, sudo path for a
// non-root user, read_file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "kbz/transport/connection.hpp"
#include "sshd_fixture.hpp"

namespace kbz {
namespace {

class TransportUpload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::sshd_skip_reason().empty()) return;
    fleet_ = new test::SshdFleet(1);
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  void SetUp() override {
    if (auto why = test::sshd_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    pool_ = std::make_unique<SessionPool>(fleet_->connect_options());
    auto c = pool_->connect(fleet_->host(0));
    ASSERT_TRUE(c) << c.error().message;
    conn_ = *c;
    // The remote side is this machine: a root-owned folder kbztest cannot write, per test.
    remote_dir_ = fleet_->dir() / ("root-only-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(remote_dir_);
    ::chmod(remote_dir_.c_str(), 0755);
  }
  std::filesystem::path local(const std::string& name, const std::string& content) {
    auto p = fleet_->dir() / ("local-" + name);
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p;
  }
  std::string cat(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static test::SshdFleet* fleet_;
  std::unique_ptr<SessionPool> pool_;
  Connection* conn_ = nullptr;
  std::filesystem::path remote_dir_;
};
test::SshdFleet* TransportUpload::fleet_ = nullptr;

TEST_F(TransportUpload, AsUserUploadIsAtomicAndIdempotent) {
  const std::string dest = "/home/kbztest/kbz-upload-test.conf";
  std::filesystem::remove(dest);
  UploadRequest up{local("a", "first version\n"), dest, 0640, "", Privilege::AsUser};
  auto r1 = conn_->upload(up);
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(*r1, UploadOutcome::Uploaded);
  EXPECT_EQ(cat(dest), "first version\n");
  struct stat st {};
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  auto r2 = conn_->upload(up);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(*r2, UploadOutcome::Unchanged);
  EXPECT_EQ(conn_->stats().uploads, 1u);
  EXPECT_EQ(conn_->stats().uploads_skipped, 1u);
  // Replacing an existing file (posix-rename): new content, no temp file left behind.
  up.local = local("a2", "second version\n");
  auto r3 = conn_->upload(up);
  ASSERT_TRUE(r3) << r3.error().message;
  EXPECT_EQ(*r3, UploadOutcome::Uploaded);
  EXPECT_EQ(cat(dest), "second version\n");
  for (const auto& e : std::filesystem::directory_iterator("/home/kbztest")) {
    EXPECT_EQ(e.path().filename().string().find(".kbz-"), std::string::npos) << e.path();
  }
  // Same content, different mode: fixed in place, reported as a change.
  up.mode = 0600;
  auto r4 = conn_->upload(up);
  ASSERT_TRUE(r4);
  EXPECT_EQ(*r4, UploadOutcome::Uploaded);
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(TransportUpload, RootFileForNonRootUserGoesThroughSudoInstall) {
  const std::string dest = (remote_dir_ / "root.conf").string();
  UploadRequest up{local("b", "owned by root\n"), dest, 0600, "root:root", Privilege::Root};
  auto r1 = conn_->upload(up);
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(*r1, UploadOutcome::Uploaded);
  EXPECT_EQ(cat(dest), "owned by root\n");
  struct stat st {};
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 0u);
  auto r2 = conn_->upload(up);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(*r2, UploadOutcome::Unchanged);
  auto read = conn_->read_file(dest);  // 0600 root: only readable through sudo
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, "owned by root\n");
  // No staging file left in /tmp by this upload.
  auto leftovers = conn_->run([] {
    ExecRequest r;
    r.command = "ls /tmp | grep -c '^kbz-upload\\.' || true";
    r.privilege = Privilege::AsUser;
    return r;
  }());
  ASSERT_TRUE(leftovers);
  EXPECT_EQ(leftovers->out, "0\n");
}

TEST_F(TransportUpload, NoSudoUserGetsTheClearError) {
  SessionPool pool(fleet_->connect_options());
  auto c = pool.connect(fleet_->host(0, test::kNoSudoUser));
  ASSERT_TRUE(c) << c.error().message;
  UploadRequest up{local("c", "x\n"), (remote_dir_ / "nope.conf").string(), 0644, "", Privilege::Root};
  auto r = (*c)->upload(up);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Auth);
  EXPECT_NE(r.error().message.find("has no passwordless sudo"), std::string::npos) << r.error().message;
}

TEST_F(TransportUpload, BigFileIsStreamed) {
  const auto big = fleet_->dir() / "local-big";
  {
    std::ofstream out(big, std::ios::binary);
    std::string block(1 << 20, '\0');
    for (int i = 0; i < 24; ++i) {  // 24 MiB, varied content so a truncated copy cannot match
      for (size_t j = 0; j < block.size(); j += 4096) block[j] = static_cast<char>(i * 7 + j / 4096);
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }
  const std::string dest = (remote_dir_ / "big.bin").string();
  UploadRequest up{big, dest, 0644, "", Privilege::Root};
  const auto before = conn_->stats().bytes_sent;
  auto r = conn_->upload(up);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, UploadOutcome::Uploaded);
  EXPECT_EQ(std::filesystem::file_size(dest), 24u << 20);
  EXPECT_EQ(cat(dest), cat(big));
  EXPECT_GE(conn_->stats().bytes_sent - before, 24u << 20);
  auto again = conn_->upload(up);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, UploadOutcome::Unchanged);
}

TEST_F(TransportUpload, MissingLocalFileIsAnIoError) {
  UploadRequest up{fleet_->dir() / "does-not-exist", "/home/kbztest/x", 0644, "", Privilege::AsUser};
  auto r = conn_->upload(up);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
}

}  // namespace
}  // namespace kbz
