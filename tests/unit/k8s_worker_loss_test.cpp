// Module 9's worker-loss scenario: the workload's pods line (the spread-pods.jq outputs recorded in
// tests/fixtures/k8s/expected.tsv, themselves checked by k8s_parsers_test.sh against PodList JSON), the nodes
// line (nodes-ready.jq, same file) and a round of ingress /healthz probes.
#include "kbz/failover/k8s_worker_loss.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace kbz {
namespace {

std::map<std::string, std::string> fixture_lines(const std::string& filter) {
  std::ifstream in(std::string(KBZ_SOURCE_DIR) + "/tests/fixtures/k8s/expected.tsv");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string f, input, want;
    if (std::getline(row, f, '\t') && f == filter && std::getline(row, input, '\t') &&
        std::getline(row, want))
      out[input] = want;
  }
  return out;
}

TEST(K8sWorkerLoss, SpreadPodsFromTheFixtures) {
  const auto lines = fixture_lines("spread-pods.jq");
  ASSERT_EQ(lines.size(), 4u);
  const auto placed = parse_spread_pods(lines.at("spread-pods-5.json"));
  EXPECT_TRUE(placed.parsed);
  EXPECT_EQ(placed.ready, 5);
  EXPECT_TRUE(placed.runs_on("k8s-worker-05"));  // the victim is chosen among the nodes with a pod
  EXPECT_FALSE(placed.rescheduled_off("k8s-worker-05", 5)) << "its pod is still there";
  // Node lost, not yet evicted: the pod's Ready condition turned False, no replacement yet.
  const auto lost = parse_spread_pods(lines.at("spread-pods-node-lost.json"));
  EXPECT_EQ(lost.ready, 4);
  EXPECT_FALSE(lost.runs_on("k8s-worker-05"));
  EXPECT_FALSE(lost.rescheduled_off("k8s-worker-05", 5));
  // Evicted, the replacement Pending: still 4 ready.
  const auto pending = parse_spread_pods(lines.at("spread-pods-replacement-pending.json"));
  EXPECT_EQ(pending.terminating, 1);
  EXPECT_FALSE(pending.rescheduled_off("k8s-worker-05", 5));
  // The replacement ready on worker-02; the evicted pod stays Terminating until worker-05 returns.
  const auto moved = parse_spread_pods(lines.at("spread-pods-rescheduled.json"));
  EXPECT_TRUE(moved.parsed);
  EXPECT_EQ(moved.pods, 6);
  EXPECT_EQ(moved.terminating, 1);
  EXPECT_TRUE(moved.rescheduled_off("k8s-worker-05", 5));
  EXPECT_FALSE(moved.rescheduled_off("k8s-worker-02", 5));  // worker-02 holds two of them
}

TEST(K8sWorkerLoss, SpreadPodsRefusesWhatItCannotRead) {
  EXPECT_FALSE(parse_spread_pods("").parsed);
  EXPECT_FALSE(
      parse_spread_pods("jq: error (at <stdin>:0): Cannot iterate over null").rescheduled_off("w", 1));
  EXPECT_FALSE(
      parse_spread_pods("pods=2 ready=3 terminating=0 ready_nodes=a,b,c").parsed);  // more ready than pods
  EXPECT_FALSE(parse_spread_pods("pods=3 ready=3 terminating=0 ready_nodes=a,b").parsed);  // a node missing
  EXPECT_FALSE(parse_spread_pods("pods=0 ready=0 terminating=0 ready_nodes=").rescheduled_off("w", 0));
  EXPECT_TRUE(
      parse_spread_pods("noise\npods=2 ready=2 terminating=0 ready_nodes=a,b\n").rescheduled_off("c", 2));
}

TEST(K8sWorkerLoss, NodesReadyFromTheFixtures) {
  const auto lines = fixture_lines("nodes-ready.jq");
  const auto all = parse_nodes_ready(lines.at("nodes-8-ready.json"));
  EXPECT_TRUE(all.all_ready());
  EXPECT_TRUE(all.is_ready("k8s-worker-03"));
  const auto one = parse_nodes_ready(lines.at("nodes-worker03-notready.json"));
  EXPECT_TRUE(one.parsed);
  EXPECT_FALSE(one.all_ready());
  EXPECT_FALSE(one.is_ready("k8s-worker-03"));
  EXPECT_TRUE(one.is_ready("k8s-worker-05"));
  EXPECT_FALSE(parse_nodes_ready("The connection to the server was refused").is_ready("k8s-worker-05"));
  EXPECT_FALSE(parse_nodes_ready("nodes=8 ready=8 versions=v1.30.14 notready=k8s-worker-03").parsed);
}

TEST(K8sWorkerLoss, HealthzRound) {
  const std::vector<std::string> ips = {"10.0.0.110", "10.0.0.111", "10.0.0.112"};
  EXPECT_TRUE(parse_healthz_round("10.0.0.110 ok\n10.0.0.111 ok\n10.0.0.112 ok\n", ips).all_answered());
  const auto one = parse_healthz_round("10.0.0.110 ok\n10.0.0.111 fail\n10.0.0.112 ok\n", ips);
  EXPECT_EQ(one.answered, 2);
  ASSERT_EQ(one.failing.size(), 1u);
  EXPECT_EQ(one.failing[0], "10.0.0.111");
  // The exec failed (no output) or an address is missing: not answered.
  EXPECT_EQ(parse_healthz_round("", ips).failing.size(), 3u);
  EXPECT_FALSE(parse_healthz_round("10.0.0.110 ok\n10.0.0.112 ok\n", ips).all_answered());
  EXPECT_FALSE(parse_healthz_round("10.0.0.110 ok\n10.0.0.111 okay\n10.0.0.112 ok\n", ips).all_answered());
  EXPECT_FALSE(parse_healthz_round("10.0.0.1100 ok\n", {"10.0.0.110"}).all_answered());
}

}  // namespace
}  // namespace kbz
