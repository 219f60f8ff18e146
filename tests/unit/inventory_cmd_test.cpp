// `kbz-install inventory` as a function: what reaches stdout/stderr and the exit code.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kbz/cli/commands.hpp"
#include "unit/inventory_test_util.hpp"

namespace kbz {
namespace {

struct Output {
  int code;
  std::string out, err;
};

Output run(GlobalOptions g) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int code = cmd_inventory(g);
  std::string out = testing::internal::GetCapturedStdout();
  return Output{code, std::move(out), testing::internal::GetCapturedStderr()};
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(InventoryCommand, RealFileListsHostsThenNamesTheK3sLines) {
  GlobalOptions g;
  g.inventory = test::inventory_fixture("servers.tsv");
  const auto o = run(g);
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(count_lines(o.out), 1 + 47 + 1);  // header, hosts, count line
  EXPECT_TRUE(o.out.starts_with("HOSTNAME "));
  EXPECT_NE(o.out.find("\n47 hosts (env prod, reached on IP_PRIVEE;"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("install-01"), std::string::npos);
  for (int line = 2; line <= 9; ++line) {
    EXPECT_NE(o.err.find(g.inventory + ":" + std::to_string(line) +
                         ":ROLE: role 'k3s' is not supported\n"
                         "  hint: module 9 installs kubeadm Kubernetes: change ROLE to 'k8s' on this line"),
              std::string::npos)
        << line;
  }
  EXPECT_NE(o.err.find("8 errors (inventory "), std::string::npos);
}

TEST(InventoryCommand, CleanFileWithSelectionExitsZero) {
  GlobalOptions g;
  g.inventory = test::inventory_fixture("crlf_bom_comments.tsv");
  g.hosts = "redis-02";
  const auto o = run(g);
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(
      o.out,
      "HOSTNAME  ADDRESS     USER  POOL        ROLE   SUBROLE  NOTES\n"
      "redis-02  10.0.0.124  root  redis-pool  redis  master   réplica — nœud 2 (exposé via 10.0.0.10:…\n"
      "1 host (env prod, reached on IP_PRIVEE, --hosts redis-02; the orchestrator is never a target)\n");
}

TEST(InventoryCommand, JsonForMachines) {
  GlobalOptions g;
  g.inventory = test::inventory_fixture("crlf_bom_comments.tsv");
  g.json = true;
  g.address = AddressKind::Public;
  const auto o = run(g);
  EXPECT_EQ(o.code, 2);  // redis-02 has no IP_PUBLIQUE
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["hosts"][0]["hostname"], "redis-01");
  EXPECT_EQ(j["hosts"][0]["address"], "49.12.231.193");
  EXPECT_EQ(j["hosts"][1]["notes"], "réplica — nœud 2 (exposé via 10.0.0.10:6379)");  // not cut
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["line"], 5);
  EXPECT_EQ(j["errors"][0]["column"], "IP_PUBLIQUE");
}

TEST(InventoryCommand, SelectorTypoIsAnErrorWithoutTable) {
  GlobalOptions g;
  g.inventory = test::inventory_fixture("crlf_bom_comments.tsv");
  g.hosts = "redis-01,rdis-02";
  const auto o = run(g);
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "--hosts: no target host matches 'rdis-02'\n1 error (inventory " + g.inventory + ")\n");
}

}  // namespace
}  // namespace kbz
