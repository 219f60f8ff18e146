// The failover helper every cluster module shares: the writer loop run for real (LOCAL runner, /bin/sh), the
// parsing of its log and the counting back of acknowledged writes.
#include "kbz/failover/acked_writes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine_test_util.hpp"
#include "kbz/runners/local_connection.hpp"

using namespace kbz;
namespace fs = std::filesystem;

TEST(AckedWrites, LogLinesAndIdsAreParsedStrictly) {
  const auto a =
      parse_attempts("ok 1 1000 1010\nfail 2 1100 1105\ngarbage\nok x 1 2\nok 3 1200 1290\ndone\n");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_TRUE(a[0].acked);
  EXPECT_FALSE(a[1].acked);
  EXPECT_EQ(a[2].id, 3);
  EXPECT_EQ(a[2].end_ms, 1290);
  EXPECT_EQ(parse_ids(" 4\n5\nid\n\n7 \n"), (std::vector<long>{4, 5, 7}));
}

TEST(AckedWrites, CountBackFindsLostDuplicatesResumeAndTheLongestGap) {
  // Acked 1, 2 before the kill at t=2000; 3 and 4 refused; 5 started after the kill, acked at 9000.
  const std::vector<WriteAttempt> attempts = {{1, 1000, 1100, true},
                                              {2, 1900, 2050, true},
                                              {3, 2100, 7100, false},
                                              {4, 7200, 8000, false},
                                              {5, 8100, 9000, true}};
  const auto ok = count_back(attempts, {1, 2, 5, 5, 3}, 2000);
  EXPECT_EQ(ok.acked, 3u);
  EXPECT_EQ(ok.refused, 2u);
  EXPECT_EQ(ok.lost, 0u) << "a refused write read back (3) is not a loss: it may have committed";
  EXPECT_EQ(ok.duplicates, 1u);
  ASSERT_TRUE(ok.resumed_after_ms);
  EXPECT_EQ(*ok.resumed_after_ms, 7000) << "from the kill to the end of the first write started after it";
  EXPECT_EQ(ok.longest_gap_ms, 9000 - 2050);

  const auto lost = count_back(attempts, {1, 5}, 2000);
  EXPECT_EQ(lost.lost, 1u);
  EXPECT_EQ(lost.lost_ids, std::vector<long>{2});
  FailoverResult r;
  add_write_measures(r, lost);
  bool named = false;
  for (const auto& [k, v] : r.measures) named |= k == "Écritures acquittées perdues" && v == "1 / 3 (ex. 2)";
  EXPECT_TRUE(named);
}

// The loop for real: a write that succeeds only for even ids, a "kill" in the middle (the writes fail for a
// while), the log read back and removed.
TEST(AckedWrites, TheWriterRunsDetachedAndIsReadBackWhenStopped) {
  if (geteuid() != 0) GTEST_SKIP() << "the writer keeps its files under /run (root)";
  const auto dir = test::fresh_test_dir("kbz-acked");
  LocalConnection client(Host{});
  AckedWriterSpec spec;
  spec.run_id = "t" + std::to_string(getpid());
  spec.interval_ms = 20;
  spec.attempt_timeout_s = 2;
  // Fails while the "outage" file exists; otherwise even ids are acknowledged and recorded as written.
  spec.write = "[ -e '" + (dir / "outage").string() +
               "' ] && exit 1; [ $(($1 % 2)) -eq 0 ] || exit 1; echo \"$1\" >> '" +
               (dir / "written").string() + "'\n";
  auto w = AckedWriter::start(client, spec);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(w->wait_acks(3, Millis{10000}));
  auto killed = client.run(
      {"date +%s%3N; touch '" + (dir / "outage").string() + "'", "", Privilege::AsUser, Millis{5000}});
  ASSERT_TRUE(killed);
  const long long t_kill = std::stoll(killed->out);
  auto none = w->wait_ack_started_after(t_kill, Millis{1000});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none) << "nothing is acknowledged during the outage";
  fs::remove(dir / "outage");
  auto resumed = w->wait_ack_started_after(t_kill, Millis{10000});
  ASSERT_TRUE(resumed);
  ASSERT_TRUE(*resumed);
  EXPECT_GE(**resumed, t_kill);
  auto attempts = w->stop();
  ASSERT_TRUE(attempts) << attempts.error().message;
  EXPECT_FALSE(fs::exists("/run/kbz-failover-" + spec.run_id)) << "the client's files are removed";
  auto written =
      client.run({"cat '" + (dir / "written").string() + "'", "", Privilege::AsUser, Millis{5000}});
  ASSERT_TRUE(written);
  const auto tally = count_back(*attempts, parse_ids(written->out), t_kill);
  EXPECT_GE(tally.acked, 4u);
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_GT(tally.refused, 0u);
  for (const auto& a : *attempts)
    if (a.acked) EXPECT_EQ(a.id % 2, 0) << "only the writes the script acknowledged count";
  fs::remove_all(dir);
}
