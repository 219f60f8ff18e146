#include <gtest/gtest.h>

#include "kbz/inventory/inventory.hpp"
#include "unit/inventory_test_util.hpp"

namespace kbz {
namespace {

using test::inventory_fixture;

std::vector<Host> real_targets() {
  return targets(load_inventory(inventory_fixture("servers.tsv")).inventory, TargetOptions{});
}

std::vector<std::string> names(const std::vector<Host>& hosts) {
  std::vector<std::string> out;
  for (const auto& h : hosts) out.push_back(h.hostname);
  return out;
}

std::vector<std::string> select(std::string_view selector) {
  auto r = select_hosts(real_targets(), selector);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? names(*r) : std::vector<std::string>{};
}

TEST(SelectHosts, EmptySelectorAndAllKeepEveryTarget) {
  EXPECT_EQ(select("").size(), 47u);
  EXPECT_EQ(select("all").size(), 47u);
  EXPECT_EQ(select(" , ").size(), 47u);
}

TEST(SelectHosts, HostnamesAndGlobs) {
  EXPECT_EQ(select("redis-02"), (std::vector<std::string>{"redis-02"}));
  EXPECT_EQ(select("redis-*"), (std::vector<std::string>{"redis-01", "redis-02", "redis-03"}));
  EXPECT_EQ(select("maria-0[12]"), (std::vector<std::string>{"maria-01", "maria-02"}));
  EXPECT_EQ(select("*-mx-?1"), (std::vector<std::string>{"mail-mx-01"}));
}

TEST(SelectHosts, RolePoolSubrole) {
  EXPECT_EQ(select("role:queue"), (std::vector<std::string>{"queue-01", "queue-02", "queue-03"}));
  EXPECT_EQ(select("pool:haproxy-pool"),
            (std::vector<std::string>{"haproxy-01", "haproxy-02", "proxysql-01", "proxysql-02"}));
  EXPECT_EQ(select("subrole:mariadb"), (std::vector<std::string>{"maria-01", "maria-02", "maria-03"}));
  EXPECT_EQ(select("role:k3s").size(), 8u);
  // DOCKER_STACK tells the Patroni nodes from temporal-db-01 / analytics-db-01 (also db/postgres).
  EXPECT_EQ(select("stack:patroni-node"),
            (std::vector<std::string>{"db-master-01", "db-slave-01", "db-slave-02"}));
}

TEST(SelectHosts, UnionInFileOrderWithoutDuplicates) {
  // Terms given out of file order and overlapping: result follows the file, each host once.
  EXPECT_EQ(select("redis-03, role:redis ,db-master-01"),
            (std::vector<std::string>{"db-master-01", "redis-01", "redis-02", "redis-03"}));
}

TEST(SelectHosts, TermMatchingNothingIsAnErrorNamingIt) {
  const auto hosts = real_targets();
  auto r = select_hosts(hosts, "redis-*,redis-9,role:nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::Usage);
  EXPECT_EQ(r.error().message,
            "--hosts: no target host matches 'redis-9'; no target host matches 'role:nope'");
  // The orchestrator is not a target, so naming it is an error too.
  EXPECT_FALSE(select_hosts(hosts, "install-01").has_value());
}

TEST(SelectHosts, UnknownSelectorKindIsNamed) {
  auto r = select_hosts(real_targets(), "rol:redis");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unknown selector 'rol:'"), std::string::npos) << r.error().message;
}

TEST(HostMatches, Terms) {
  Host h;
  h.hostname = "redis-01";
  h.role = "redis";
  h.pool = "redis-pool";
  h.subrole = "master";
  EXPECT_TRUE(host_matches(h, "all"));
  EXPECT_TRUE(host_matches(h, "redis-01"));
  EXPECT_TRUE(host_matches(h, "r*"));
  EXPECT_TRUE(host_matches(h, "role:redis"));
  EXPECT_TRUE(host_matches(h, "pool:redis-*"));
  EXPECT_TRUE(host_matches(h, "subrole:master"));
  EXPECT_FALSE(host_matches(h, "redis-0"));
  EXPECT_FALSE(host_matches(h, "role:db"));
  EXPECT_FALSE(host_matches(h, "subrole:replica"));
}

TEST(ResolveTargets, RealFileSelectionKeepsParseErrors) {
  const auto set = resolve_targets(inventory_fixture("servers.tsv"), TargetOptions{}, "role:redis");
  EXPECT_EQ(names(set.hosts), (std::vector<std::string>{"redis-01", "redis-02", "redis-03"}));
  EXPECT_EQ(set.errors.size(), 8u);  // the k3s rows, whatever the selection
  EXPECT_EQ(set.hosts[0].address, "10.0.0.123");
}

TEST(ResolveTargets, PublicAddressRequiredOnlyForSelectedHosts) {
  const auto path = inventory_fixture("crlf_bom_comments.tsv");
  EXPECT_TRUE(resolve_targets(path, TargetOptions{"prod", AddressKind::Private}, "").ok());
  EXPECT_TRUE(resolve_targets(path, TargetOptions{"prod", AddressKind::Public}, "redis-01").ok());
  const auto set = resolve_targets(path, TargetOptions{"prod", AddressKind::Public}, "");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].line, 5);
  EXPECT_EQ(set.errors[0].column, "IP_PUBLIQUE");
  EXPECT_EQ(set.hosts.size(), 2u);
}

TEST(ResolveTargets, UnknownEnvAndBadSelector) {
  const auto path = inventory_fixture("crlf_bom_comments.tsv");
  const auto env = resolve_targets(path, TargetOptions{"dev", AddressKind::Private}, "");
  ASSERT_EQ(env.errors.size(), 1u);
  EXPECT_EQ(env.errors[0].message, "no target host has ENV 'dev'");
  EXPECT_EQ(env.errors[0].hint, "ENV values in the file: prod, staging (choose one with --env)");

  const auto staging = resolve_targets(path, TargetOptions{"staging", AddressKind::Private}, "");
  EXPECT_TRUE(staging.ok());
  EXPECT_EQ(names(staging.hosts), (std::vector<std::string>{"redis-01"}));

  const auto sel = resolve_targets(path, TargetOptions{}, "nope");
  ASSERT_EQ(sel.errors.size(), 1u);
  EXPECT_EQ(sel.errors[0].format(), "--hosts: no target host matches 'nope'");
}

}  // namespace
}  // namespace kbz
