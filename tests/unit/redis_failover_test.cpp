// The pure parts of the redis-sentinel-failover scenario, on redis-cli output recorded from Redis 7.0.15
// (3 nodes + Sentinel + HAProxy 2.6 in throwaway containers): tests/fixtures/redis/*.out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kbz/core/text.hpp"
#include "kbz/failover/redis_sentinel_failover.hpp"
#include "kbz/verify/failover.hpp"

using namespace kbz;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(KBZ_FIXTURES_DIR) / "redis" / name);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}
const std::vector<std::string> kKeys = {"kbz:t:0", "kbz:t:1", "kbz:t:2"};
}  // namespace

TEST(RedisFailover, WritesConfirmedByWaitThroughHaproxy) {
  EXPECT_EQ(confirmed_keys(fixture("waited_writes.out"), kKeys), kKeys);
}

TEST(RedisFailover, ErrorRepliesWithTheirBlankLineConfirmNothing) {
  // A replica answers READONLY + an empty line, and WAIT errors: neither key counts.
  EXPECT_TRUE(confirmed_keys(fixture("replica_write.out"), {"kbz:t:0", "kbz:t:1"}).empty());
}

TEST(RedisFailover, ATruncatedOutputOnlyCountsCompleteKeys) {
  const auto out = fixture("waited_writes.out");
  const auto cut = out.substr(0, out.find("kbz-sep-1"));  // the connection died before key 1's marker
  EXPECT_EQ(confirmed_keys(cut, kKeys), std::vector<std::string>{"kbz:t:0"});
}

TEST(RedisFailover, MissingKeysAreTheNilOrWrongValues) {
  const auto missing =
      missing_keys(fixture("gets.out"), {"kbz:t:0", "kbz:t:9", "kbz:t:2"}, {"v0", "v9", "v2"});
  EXPECT_EQ(missing, std::vector<std::string>{"kbz:t:9"});
}

TEST(RedisFailover, ScriptsPutAMarkerAfterEachKey) {
  EXPECT_EQ(waited_writes_script({"a", "b"}, {"1", "2"}, 1000),
            "SET a 1\nWAIT 1 1000\nECHO kbz-sep-0\nSET b 2\nWAIT 1 1000\nECHO kbz-sep-1\n");
  EXPECT_EQ(reads_script({"a"}), "GET a\nECHO kbz-sep-0\n");
}

TEST(RedisFailover, StatusLineFields) {
  const std::string line = "role=slave master_host=10.0.0.124 master_link_status=up slave_repl_offset=126402";
  EXPECT_EQ(word_value(line, "role"), "slave");
  EXPECT_EQ(word_value(line, "master_host"), "10.0.0.124");
  EXPECT_EQ(word_value(line, "master_link_status"), "up");
  EXPECT_EQ(word_value("", "role"), "");
  // A name that is a prefix of another word's name does not match it; only whole words count.
  EXPECT_EQ(word_value("master_host=x master=1", "master"), "1");
  EXPECT_EQ(word_value("master_host=x", "master_h"), "");
  EXPECT_EQ(word_value("  state=Synced\tsize=3 ", "size"), "3");
}

TEST(RedisFailover, RegisteredInTheGlobalRegistry) {
  EXPECT_NE(FailoverRegistry::global().find(kRedisSentinelFailoverKind), nullptr);
}
