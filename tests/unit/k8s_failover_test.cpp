// Module 9's control-plane loss scenario: the etcd health line (the etcd-health.jq outputs recorded in
// tests/fixtures/k8s/expected.tsv, themselves checked by k8s_parsers_test.sh against etcdctl JSON) and the
// tally of API probes through the load balancer.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "kbz/failover/k8s_control_plane_loss.hpp"

namespace kbz {
namespace {

std::map<std::string, std::string> etcd_fixture_lines() {
  std::ifstream in(std::string(KBZ_SOURCE_DIR) + "/tests/fixtures/k8s/expected.tsv");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string filter, input, want;
    if (std::getline(row, filter, '\t') && filter == "etcd-health.jq" && std::getline(row, input, '\t') &&
        std::getline(row, want))
      out[input] = want;
  }
  return out;
}

TEST(K8sControlPlaneLoss, EtcdHealthFromTheFixtures) {
  const auto lines = etcd_fixture_lines();
  ASSERT_EQ(lines.size(), 3u);
  const auto all = parse_etcd_health(lines.at("etcd-health-3.json"));
  EXPECT_TRUE(all.parsed);
  EXPECT_EQ(all.members, 3);
  EXPECT_EQ(all.healthy, 3);
  EXPECT_EQ(all.down, "");
  EXPECT_TRUE(all.quorum());
  const auto one = parse_etcd_health(lines.at("etcd-health-one-down.json"));
  EXPECT_EQ(one.healthy, 2);
  EXPECT_EQ(one.down, "https://10.0.0.102:2379");
  EXPECT_TRUE(one.quorum());  // 2 of 3: the cluster still commits
  const auto none = parse_etcd_health(lines.at("etcd-health-two-down.json"));
  EXPECT_EQ(none.healthy, 0);
  EXPECT_FALSE(none.quorum());
}

TEST(K8sControlPlaneLoss, EtcdHealthRefusesWhatItCannotRead) {
  EXPECT_FALSE(parse_etcd_health("").parsed);
  EXPECT_FALSE(parse_etcd_health("jq: error (at <stdin>:0): Cannot iterate over null").quorum());
  EXPECT_FALSE(parse_etcd_health("members=3 healthy=4 down=").parsed);  // more healthy than members
  EXPECT_FALSE(parse_etcd_health("members=0 healthy=0 down=").quorum());
  EXPECT_FALSE(parse_etcd_health("members=4 healthy=2 down=a,b").quorum());  // half is not a majority
  EXPECT_TRUE(parse_etcd_health("noise\nmembers=5 healthy=3 down=a,b\n").quorum());
}

TEST(K8sControlPlaneLoss, ApiProbeTally) {
  using P = std::vector<std::pair<Millis, bool>>;
  // The load balancer sends a third of the probes to the dead node until its health check drops it.
  const P lb_drops_it = {{Millis{1000}, true},  {Millis{2000}, false}, {Millis{3000}, true},
                         {Millis{4000}, false}, {Millis{5000}, false}, {Millis{6000}, true},
                         {Millis{7000}, true},  {Millis{8000}, true},  {Millis{9000}, true},
                         {Millis{10000}, true}, {Millis{11000}, true}};
  const auto t = tally_api_probes(lb_drops_it, 5);
  EXPECT_EQ(t.total, 11);
  EXPECT_EQ(t.answered, 8);
  EXPECT_EQ(t.longest_gap, Millis{2000});  // from the failure at 4 s to the answer at 6 s
  EXPECT_TRUE(t.answering_at_end);
  // Still failing at the end: the gap runs to the last probe, and the end is not answering.
  const P never_back = {
      {Millis{1000}, true}, {Millis{2000}, false}, {Millis{3000}, false}, {Millis{9000}, false}};
  const auto n = tally_api_probes(never_back, 2);
  EXPECT_EQ(n.longest_gap, Millis{7000});
  EXPECT_FALSE(n.answering_at_end);
  EXPECT_FALSE(tally_api_probes({}, 5).answering_at_end);
  EXPECT_FALSE(tally_api_probes({{Millis{1}, true}}, 5).answering_at_end);  // too few probes to say
}

}  // namespace
}  // namespace kbz
