#include <gtest/gtest.h>

#include <algorithm>

#include "kbz/inventory/inventory.hpp"
#include "unit/inventory_test_util.hpp"

namespace kbz {
namespace {

using test::inventory_fixture;
using test::where;
using Where = std::vector<std::tuple<int, std::string>>;

// The team's real file (copied from the reference): 48 rows, the orchestrator, and 8 k3s rows to fix.
TEST(InventoryRealFile, ParsesEveryRowAndNamesTheEightK3sLines) {
  const auto path = inventory_fixture("servers.tsv");
  const auto parsed = load_inventory(path);
  EXPECT_EQ(parsed.inventory.rows.size(), 48u);
  Where expected;
  for (int line = 2; line <= 9; ++line) expected.emplace_back(line, "ROLE");
  EXPECT_EQ(where(parsed.errors), expected);
  for (const auto& d : parsed.errors) {
    EXPECT_EQ(d.file, path);
    EXPECT_EQ(d.message, "role 'k3s' is not supported");
    EXPECT_EQ(d.hint, "module 9 installs kubeadm Kubernetes: change ROLE to 'k8s' on this line");
  }
  EXPECT_EQ(parsed.errors[0].format(),
            path +
                ":2:ROLE: role 'k3s' is not supported\n"
                "  hint: module 9 installs kubeadm Kubernetes: change ROLE to 'k8s' on this line");
}

TEST(InventoryRealFile, FieldsLandInTheirColumns) {
  const auto parsed = load_inventory(inventory_fixture("servers.tsv"));
  const auto& rows = parsed.inventory.rows;
  const auto it =
      std::find_if(rows.begin(), rows.end(), [](const Host& h) { return h.hostname == "redis-01"; });
  ASSERT_NE(it, rows.end());
  EXPECT_EQ(it->line, 13);
  EXPECT_EQ(it->env, "prod");
  EXPECT_EQ(it->public_ip, "49.12.231.193");
  EXPECT_EQ(it->private_ip, "10.0.0.123");
  EXPECT_EQ(it->fqdn, "redis1.keybuzz.io");
  EXPECT_EQ(it->user, "root");
  EXPECT_EQ(it->pool, "redis-pool");
  EXPECT_EQ(it->role, "redis");
  EXPECT_EQ(it->subrole, "master");
  EXPECT_EQ(it->docker_stack, "redis-ha-docker");
  EXPECT_EQ(it->core, "yes");
  EXPECT_EQ(it->notes, "Redis HA master (cluster/sentinel, exposé via 10.0.0.10:6379)");
  EXPECT_EQ(rows.back().hostname, "proxysql-02");
  EXPECT_EQ(rows.back().line, 49);
}

TEST(InventoryRealFile, FortySevenTargetsWithoutTheOrchestrator) {
  const auto parsed = load_inventory(inventory_fixture("servers.tsv"));
  const auto hosts = targets(parsed.inventory, TargetOptions{});
  EXPECT_EQ(hosts.size(), 47u);
  EXPECT_TRUE(
      std::none_of(hosts.begin(), hosts.end(), [](const Host& h) { return h.hostname == "install-01"; }));
  for (const auto& h : hosts) EXPECT_EQ(h.address, h.private_ip) << h.hostname;
  const auto pub = targets(parsed.inventory, TargetOptions{"prod", AddressKind::Public});
  ASSERT_EQ(pub.size(), 47u);
  EXPECT_EQ(pub[0].address, "91.98.124.228");
  EXPECT_TRUE(targets(parsed.inventory, TargetOptions{"staging", AddressKind::Private}).empty());
}

TEST(InventoryFormat, CrlfBomCommentsBlankLinesAndOptionalPublicIp) {
  const auto parsed = load_inventory(inventory_fixture("crlf_bom_comments.tsv"));
  EXPECT_TRUE(parsed.ok()) << parsed.errors[0].format();
  ASSERT_EQ(parsed.inventory.rows.size(), 4u);
  const auto& r = parsed.inventory.rows;
  EXPECT_EQ(r[0].hostname, "redis-01");
  EXPECT_EQ(r[0].line, 4);
  EXPECT_EQ(r[0].notes, "Redis HA");  // no '\r' left behind
  EXPECT_EQ(r[1].public_ip, "");
  EXPECT_EQ(r[1].notes, "réplica — nœud 2 (exposé via 10.0.0.10:6379)");
  EXPECT_EQ(r[2].line, 7);
  EXPECT_TRUE(r[2].is_orchestrator());
  EXPECT_EQ(r[3].env, "staging");  // same hostname and IP in another ENV is not a duplicate
  EXPECT_EQ(r[3].line, 8);
  EXPECT_EQ(targets(parsed.inventory, TargetOptions{}).size(), 2u);
}

TEST(InventoryFormat, SpacesAroundFieldsAreTrimmed) {
  const std::string text =
      "ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_"
      "STACK\tCORE\tNOTES\n"
      "prod \t 1.2.3.4\tredis-01 \t10.0.0.1\tf\troot\tp\tredis\ts\td\tyes\t note \n";
  const auto parsed = parse_inventory(text, "mem.tsv");
  ASSERT_TRUE(parsed.ok()) << parsed.errors[0].format();
  EXPECT_EQ(parsed.inventory.rows[0].env, "prod");
  EXPECT_EQ(parsed.inventory.rows[0].hostname, "redis-01");
  EXPECT_EQ(parsed.inventory.rows[0].notes, "note");
}

struct BadFile {
  const char* file;
  Where expected;
  const char* message_part;  // something the first message must say
  friend void PrintTo(const BadFile& b, std::ostream* os) { *os << b.file; }
};

class InventoryBadFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(InventoryBadFile, ReportsExactLineAndColumn) {
  const auto& c = GetParam();
  const auto path = inventory_fixture(c.file);
  const auto parsed = load_inventory(path);
  EXPECT_EQ(where(parsed.errors), c.expected);
  ASSERT_FALSE(parsed.errors.empty());
  EXPECT_NE(parsed.errors[0].message.find(c.message_part), std::string::npos) << parsed.errors[0].format();
  EXPECT_EQ(parsed.errors[0].file, path);
}

INSTANTIATE_TEST_SUITE_P(
    OnePerErrorKind, InventoryBadFile,
    ::testing::Values(
        BadFile{"bad_header_names.tsv", {{1, "HOSTNAME"}}, "is 'HOST', expected 'HOSTNAME'"},
        BadFile{"bad_header_count.tsv", {{1, "header"}}, "header has 11 tab-separated columns, expected 12"},
        BadFile{"bad_ip_private.tsv", {{3, "IP_PRIVEE"}}, "'10.0.0.256' is not an IPv4 address"},
        BadFile{"bad_ip_public.tsv", {{4, "IP_PUBLIQUE"}}, "'23.88.48' is not an IPv4 address"},
        BadFile{
            "duplicate_hostname.tsv", {{4, "HOSTNAME"}}, "duplicate HOSTNAME 'redis-01' (first on line 2)"},
        BadFile{"duplicate_private_ip.tsv",
                {{4, "IP_PRIVEE"}},
                "duplicate IP_PRIVEE '10.0.0.123' (first on line 2)"},
        BadFile{"empty_user.tsv", {{3, "USER_SSH"}}, "empty, but this column is required"},
        BadFile{"empty_hostname.tsv", {{3, "HOSTNAME"}}, "empty, but this column is required"},
        BadFile{"field_count.tsv", {{3, "CORE"}}, "row has 10 fields, expected 12"},
        BadFile{"spaces_not_tabs.tsv", {{3, "IP_PUBLIQUE"}}, "row has 1 field, expected 12"},
        BadFile{"bad_pool_name.tsv", {{3, "POOL"}}, "'redis pool,2' is not a plain name"},
        BadFile{"k3s_role.tsv", {{3, "ROLE"}}, "role 'k3s' is not supported"},
        BadFile{"bad_utf8.tsv", {{2, "NOTES"}}, "not valid UTF-8"}),
    [](const auto& info) {
      std::string name = info.param.file;
      name = name.substr(0, name.find('.'));
      std::erase_if(name, [](char c) { return c == '_'; });
      return name;
    });

TEST(InventoryErrors, AllErrorsAtOnceInFileOrder) {
  const std::string text =
      "ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_"
      "STACK\tCORE\tNOTES\n"
      "prod\t1.2.3\tredis-01\t10.0.0.1\tf\t\tp\tk3s\ts\td\tyes\tn\n"
      "prod\t1.2.3.4\tredis-01\t10.0.0.01\tf\troot\tp\tredis\ts\td\tyes\tn\n"
      "prod\t1.2.3.4\n";
  const auto parsed = parse_inventory(text, "x.tsv");
  // Within a row in column order, rows in file order.
  EXPECT_EQ(where(parsed.errors), (Where{{2, "IP_PUBLIQUE"},
                                         {2, "USER_SSH"},
                                         {2, "ROLE"},
                                         {3, "HOSTNAME"},
                                         {3, "IP_PRIVEE"},
                                         {4, "HOSTNAME"}}));
  // Rows with bad values are kept (shown in the table); the short row is dropped.
  EXPECT_EQ(parsed.inventory.rows.size(), 2u);
  EXPECT_EQ(parsed.errors[3].format(), "x.tsv:3:HOSTNAME: duplicate HOSTNAME 'redis-01' (first on line 2)");
}

TEST(InventoryErrors, InvalidUtf8IsReplacedSoOutputStaysPrintable) {
  const auto parsed = load_inventory(inventory_fixture("bad_utf8.tsv"));
  ASSERT_EQ(parsed.inventory.rows.size(), 1u);
  EXPECT_EQ(parsed.inventory.rows[0].notes, "r\xEF\xBF\xBDplica");
}

TEST(InventoryErrors, ControlCharactersAreRefusedAndNeverReachTheTerminal) {
  const std::string text =
      "ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_"
      "STACK\tCORE\tNOTES\n"
      "prod\t1.2.3.4\tredis-01\t10.0.0.1\tf\troot\tp\tredis\ts\td\tyes\t\x1b[2Jgone\n";
  const auto parsed = parse_inventory(text, "x.tsv");
  EXPECT_EQ(where(parsed.errors), (Where{{2, "NOTES"}}));
  EXPECT_EQ(parsed.errors[0].message, "contains a control character");
  ASSERT_EQ(parsed.inventory.rows.size(), 1u);
  EXPECT_EQ(parsed.inventory.rows[0].notes, "\xEF\xBF\xBD[2Jgone");
}

TEST(InventoryErrors, EmptyAndMissingFiles) {
  const auto empty = parse_inventory("\n# only a comment\n\n", "e.tsv");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].line, 0);
  EXPECT_NE(empty.errors[0].format().find("e.tsv: empty inventory: no header row"), std::string::npos);

  const auto missing = load_inventory("/nonexistent/servers.tsv");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].format(),
            "/nonexistent/servers.tsv: cannot read the inventory: No such file or directory\n"
            "  hint: give its path with --inventory PATH");
  const auto dir = load_inventory(KBZ_FIXTURES_DIR);
  ASSERT_EQ(dir.errors.size(), 1u);
  EXPECT_NE(dir.errors[0].message.find("it is a directory"), std::string::npos);
}

}  // namespace
}  // namespace kbz
