#include "kbz/engine/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <regex>

namespace kbz {
namespace {

namespace fs = std::filesystem;
using credentials::Charset;

class Credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kbz-cred-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    workdir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(workdir_); }

  std::string dir() const { return workdir_ + "/credentials"; }
  std::string file(const std::string& name) const { return dir() + "/" + name + ".env"; }
  static mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // A hand-made credentials file with the given mode.
  void write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    fs::create_directories(dir());
    fs::permissions(dir(), fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(file(name)) << text;
    ASSERT_EQ(::chmod(file(name).c_str(), mode), 0);
  }

  std::string workdir_;
};

TEST_F(Credentials, GeneratesTheRequestedLengthAndCharset) {
  auto a = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_TRUE(std::regex_match(a->reveal(), std::regex("[A-Za-z0-9]{32}"))) << a->reveal().size();
  auto h = credentials::ensure(workdir_, "patroni", "PATRONI_API_TOKEN", 64, Charset::Hex);
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_TRUE(std::regex_match(h->reveal(), std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(read(file("redis")), "REDIS_PASSWORD=" + a->reveal() + "\n");
}

TEST_F(Credentials, SecondEnsureReturnsTheSameValueAndNeverRewrites) {
  auto first = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto again = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 48);  // other length: still the same
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->reveal(), first->reveal());
  auto other = credentials::ensure(workdir_, "redis", "SENTINEL_PASSWORD", 32);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->reveal(), first->reveal());
  EXPECT_EQ(read(file("redis")),
            "REDIS_PASSWORD=" + first->reveal() + "\nSENTINEL_PASSWORD=" + other->reveal() + "\n");
}

TEST_F(Credentials, KeepsAHandWrittenValue) {
  write("postgres", "# set by hand\nPOSTGRES_PASSWORD=chosen-by-the-team", 0600);
  auto v = credentials::ensure(workdir_, "postgres", "POSTGRES_PASSWORD", 32);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->reveal(), "chosen-by-the-team");
  auto added = credentials::ensure(workdir_, "postgres", "REPLICATION_PASSWORD", 16);
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(
      read(file("postgres")),
      "# set by hand\nPOSTGRES_PASSWORD=chosen-by-the-team\nREPLICATION_PASSWORD=" + added->reveal() + "\n");
}

TEST_F(Credentials, Modes0700And0600WhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{0277}}) {
    fs::remove_all(dir());
    const mode_t old = ::umask(mask);
    auto v = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
    ::umask(old);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_EQ(mode_of(dir()), 0700u) << "umask " << mask;
    EXPECT_EQ(mode_of(file("redis")), 0600u) << "umask " << mask;
  }
  // No temp file left behind; the lock file is private too.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".lock", "redis.env"}));
  EXPECT_EQ(mode_of(dir() + "/.lock"), 0600u);
}

TEST_F(Credentials, RegistersEveryValueWithTheMasker) {
  auto v = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(mask("auth " + v->reveal() + " ok"), "auth *** ok");

  write("rabbitmq", "RABBITMQ_ERLANG_COOKIE=cookie-from-an-older-run\n");
  Masker::global().clear();  // as in a fresh process: only load_all knows the values
  auto store = credentials::load_all(workdir_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(mask("c=cookie-from-an-older-run p=" + v->reveal()), "c=*** p=***");
  EXPECT_EQ(store->keys.at("REDIS_PASSWORD").reveal(), v->reveal());
  EXPECT_EQ(store->files.at("rabbitmq").at("RABBITMQ_ERLANG_COOKIE").reveal(), "cookie-from-an-older-run");
  EXPECT_EQ(store->keys.size(), 2u);
}

TEST_F(Credentials, RefusesAFileOthersCanRead) {
  write("redis", "REDIS_PASSWORD=leaked-value-1234\n", 0644);
  auto v = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message, file("redis") + ": permissions 0644 let group/others in; run `chmod 600 " +
                                   file("redis") + "` and consider its secrets leaked (rotate them)");
  auto all = credentials::load_all(workdir_);
  ASSERT_FALSE(all.has_value());
  EXPECT_NE(all.error().message.find("permissions 0644"), std::string::npos);
  EXPECT_EQ(all.error().message.find("leaked-value-1234"), std::string::npos);  // never quoted
}

TEST_F(Credentials, RefusesADirectoryOthersCanEnter) {
  write("redis", "REDIS_PASSWORD=some-value-1234\n");
  ASSERT_EQ(::chmod(dir().c_str(), 0755), 0);
  auto v = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("permissions 0755"), std::string::npos) << v.error().message;
  EXPECT_NE(v.error().message.find("chmod 700"), std::string::npos);
  EXPECT_FALSE(credentials::load_all(workdir_).has_value());
}

TEST_F(Credentials, RefusesASymlinkedFile) {
  write("real", "REDIS_PASSWORD=some-value-1234\n");
  fs::create_symlink(file("real"), file("redis"));
  auto v = credentials::ensure(workdir_, "redis", "REDIS_PASSWORD", 32);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("symbolic link"), std::string::npos);
}

TEST_F(Credentials, MalformedFilesNamedByLineWithoutQuotingValues) {
  write("bad", "GOOD=value-1\nthis-line-is-a-password\nEMPTY=\nGOOD=value-2\n");
  auto all = credentials::load_all(workdir_);
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().message, file("bad") + ":2: not a KEY=VALUE line (KEY is A-Z, 0-9, _)\n" +
                                     file("bad") + ":3: EMPTY has an empty value\n" + file("bad") +
                                     ":4: GOOD is set twice");
}

TEST_F(Credentials, OneKeyWithTwoValuesAcrossFilesIsAnError) {
  write("a", "SHARED_TOKEN=first-value-1234\n");
  write("b", "SHARED_TOKEN=other-value-5678\n");
  auto all = credentials::load_all(workdir_);
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().message, file("b") + ": SHARED_TOKEN differs from the value in " + file("a") +
                                     " (templates see one credentials.SHARED_TOKEN)");
  write("b", "SHARED_TOKEN=first-value-1234\n");  // the same value twice is fine
  EXPECT_TRUE(credentials::load_all(workdir_).has_value());
}

TEST_F(Credentials, NoDirectoryMeansAnEmptyStore) {
  auto all = credentials::load_all(workdir_);
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->keys.empty());
  EXPECT_FALSE(fs::exists(dir()));  // reading never creates anything
}

TEST_F(Credentials, RejectsBadNamesKeysAndLengths) {
  EXPECT_EQ(credentials::ensure(workdir_, "../etc", "K", 32).error().kind, ErrorKind::Usage);
  EXPECT_FALSE(credentials::ensure(workdir_, "redis", "lower", 32).has_value());
  EXPECT_FALSE(credentials::ensure(workdir_, "redis", "1KEY", 32).has_value());
  EXPECT_FALSE(credentials::ensure(workdir_, "redis", "KEY", 4).has_value());
  EXPECT_FALSE(credentials::ensure(workdir_, "redis", "KEY", 5000).has_value());
  EXPECT_FALSE(fs::exists(dir()));
}

// Modulo bias would make the first 256 % 62 = 8 letters ("A".."H") 25% more frequent than the others.
TEST_F(Credentials, AlnumCharactersAreUniform) {
  std::array<int, 128> count{};
  size_t total = 0;
  for (int i = 0; i < 16; ++i) {
    auto v = credentials::ensure(workdir_, "bias", "K" + std::to_string(i), 4096);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    for (const char c : v->reveal()) ++count[static_cast<unsigned char>(c)];
    total += v->reveal().size();
  }
  int first_eight = 0;
  for (char c = 'A'; c <= 'H'; ++c) first_eight += count[c];
  const double expected = total * 8.0 / 62.0;  // 8456 for 65536 characters, sd ~ 89
  EXPECT_LT(first_eight, expected + 450) << "biased towards A..H";
  EXPECT_GT(first_eight, expected - 450);
  int used = 0;
  for (const int n : count) used += n > 0;
  EXPECT_EQ(used, 62);
}

}  // namespace
}  // namespace kbz

namespace kbz {
namespace {

TEST(CredentialsDerived, ScramVerifierKeptThenReplacedWhenItsPasswordChanges) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kbz-cred-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string wd = tmpl;
  auto pw = credentials::ensure(wd, "pg", "APP_PASS", 24);
  ASSERT_TRUE(pw);
  auto v1 = credentials::ensure_derived(wd, "pg", "APP_SCRAM", credentials::Derivation::ScramSha256, *pw);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_TRUE(v1->reveal().starts_with("SCRAM-SHA-256$4096:"));
  auto v2 = credentials::ensure_derived(wd, "pg", "APP_SCRAM", credentials::Derivation::ScramSha256, *pw);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v1->reveal(), v2->reveal());  // same salt: re-applies change nothing
  auto v3 = credentials::ensure_derived(wd, "pg", "APP_SCRAM", credentials::Derivation::ScramSha256,
                                        Secret("rotatedPassword123"));
  ASSERT_TRUE(v3);
  EXPECT_NE(v1->reveal(), v3->reveal());
  auto all = credentials::load_all(wd);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->keys.at("APP_SCRAM").reveal(), v3->reveal());
  EXPECT_EQ(all->keys.at("APP_PASS").reveal(), pw->reveal());
  std::filesystem::remove_all(wd);
}

}  // namespace
}  // namespace kbz
