// Module 7's ProxySQL part cannot run in the lab (no package, no registry reaches it). What it sends and what
// it parses is proven here instead: the module's own templates (kbz-proxysql-cli, wanted.sql, admin.cnf)
// rendered for the lab's hosts, run against tests/fixtures/proxysql/fake-mariadb.sh, which plays ProxySQL's
// admin interface with sqlite3 on ProxySQL's documented table definitions
// (tests/fixtures/proxysql/schema.sql: a statement ProxySQL would refuse — a wrong column, a value outside
// its CHECKs — is refused here too). Also the Galera failover client's write script and its per-node count
// parser.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "kbz/core/text.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/failover/galera_node_kill.hpp"

namespace kbz {
namespace {

namespace fs = std::filesystem;
const std::string kFixtures = std::string(KBZ_FIXTURES_DIR) + "/proxysql/";
constexpr const char* kAdminPw = "Adm1nFixturePw0000000000000000aa";
constexpr const char* kAppPw = "AppFixturePw00000000000000000000b";
constexpr const char* kMonitorPw = "MonFixturePw00000000000000000000c";
constexpr const char* kClusterPw = "CluFixturePw00000000000000000000d";

struct Ran {
  int rc = -1;
  std::string out;
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

Host host(const std::string& name, const std::string& ip, const std::string& subrole) {
  Host h;
  h.hostname = name;
  h.private_ip = ip;
  h.address = ip;
  h.role = subrole == "mariadb" ? "db" : "db_proxy";
  h.subrole = subrole;
  return h;
}

const Module& module7() {
  static const Module m = [] {
    auto r = load_module(7, ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});  // the source tree
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return m;
}

const VerifyCheck& check(const std::string& id) {
  const auto& c = module7().checks;
  const auto it = std::find_if(c.begin(), c.end(), [&](const VerifyCheck& v) { return v.id == id; });
  if (it == c.end()) throw std::runtime_error("no verify check " + id);
  return *it;
}

// One ProxySQL node (proxysql-01) of the lab's fleet, its files rendered into a scratch folder, its admin
// interface a fresh ProxySQL (schema.sql) behind the fake client.
class ProxysqlNode : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kbz-proxysql-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "conf");
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "log");
    ctx_.all_hosts = {
        host("maria-01", "172.29.0.170", "mariadb"), host("maria-02", "172.29.0.171", "mariadb"),
        host("maria-03", "172.29.0.172", "mariadb"), host("proxysql-01", "172.29.0.173", "proxysql"),
        host("proxysql-02", "172.29.0.174", "proxysql")};
    ctx_.host = ctx_.all_hosts[3];
    ctx_.credentials = {{"PROXYSQL_ADMIN_PASSWORD", kAdminPw},
                        {"PROXYSQL_CLUSTER_PASSWORD", kClusterPw},
                        {"MARIADB_APP_PASSWORD", kAppPw},
                        {"MARIADB_MONITOR_PASSWORD", kMonitorPw}};
    write(conf("wanted.sql"), render("proxysql-wanted.sql.mustache"));
    write(conf("admin.cnf"), render("proxysql-admin.cnf.mustache"));
    // The helper as the module renders it, its one path line pointed at the scratch folder.
    std::string cli = render("kbz-proxysql-cli.mustache");
    const std::string line = "\nconf=/opt/keybuzz/proxysql/conf\n";
    const auto at = cli.find(line);
    ASSERT_NE(at, std::string::npos) << "kbz-proxysql-cli no longer sets conf=/opt/keybuzz/proxysql/conf";
    cli.replace(at, line.size(), "\nconf=" + (dir_ / "conf").string() + "\n");
    write((dir_ / "cli.sh").string(), cli);
    fs::copy_file(kFixtures + "fake-mariadb.sh", dir_ / "bin" / "mariadb");
    fs::permissions(dir_ / "bin" / "mariadb", fs::perms::owner_all);
    ASSERT_EQ(sh("sqlite3 " + db() + " < " + kFixtures + "schema.sql").rc, 0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string render(const std::string& name) {
    const auto it = module7().templates.find(name);
    if (it == module7().templates.end()) throw std::runtime_error("no template " + name);
    auto r = render_template(it->second, ctx_, name);
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }
  std::string conf(const std::string& f) const { return (dir_ / "conf" / f).string(); }
  std::string db() const { return (dir_ / "admin.db").string(); }
  std::string log(const std::string& f) const { return read((dir_ / "log" / f).string()); }
  void clear_logs() {
    fs::remove_all(dir_ / "log");
    fs::create_directories(dir_ / "log");
  }

  Ran sh(const std::string& command, const std::string& backend = "maria-01\tSynced") {
    const std::string env = "PATH=" + (dir_ / "bin").string() + ":/usr/bin:/bin FAKE_PROXYSQL_DB=" + db() +
                            " FAKE_PROXYSQL_LOG=" + (dir_ / "log").string() +
                            " FAKE_PROXYSQL_ADMIN_PW=" + kAdminPw + " FAKE_PROXYSQL_APP_PW=" + kAppPw +
                            " FAKE_PROXYSQL_BACKEND=" + shell_quote(backend) + " ";
    Ran r;
    FILE* p = popen((env + command + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = pclose(p);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
  }
  Ran cli(const std::string& args, const std::string& backend = "maria-01\tSynced") {
    return sh("sh " + (dir_ / "cli.sh").string() + " " + args, backend);
  }
  Ran admin_sql(const std::string& sql) { return sh("sqlite3 " + db() + " " + shell_quote(sql)); }

  fs::path dir_;
  TemplateContext ctx_;
};

bool matches(const VerifyCheck& c, const std::string& out) {
  return std::regex_search(out, std::regex(c.expect_regex));
}

// Every statement `sync` sends to a fresh ProxySQL, in order, as the fixture lists them; each one is taken by
// ProxySQL's own tables (schema.sql), and the runtime ends as designed: one writer, two backup writers.
TEST_F(ProxysqlNode, SyncSendsTheWantedStatementsAndTheRuntimeEndsAsDesigned) {
  const Ran first = cli("drift");
  EXPECT_EQ(first.rc, 1);
  EXPECT_EQ(first.out, "differs: servers galera_hostgroups users monitor\n");
  clear_logs();
  const Ran r = cli("sync");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "in sync\n");
  std::string want = read(kFixtures + "sync.statements");
  for (const auto& [k, v] : ctx_.credentials) want = std::regex_replace(want, std::regex("@" + k + "@"), v);
  EXPECT_EQ(log("statements"), want);
  EXPECT_EQ(admin_sql("SELECT hostgroup_id, hostname, port, status, weight, max_connections, comment FROM "
                      "runtime_mysql_servers ORDER BY hostgroup_id, hostname")
                .out,
            "10|172.29.0.170|3306|ONLINE|1000|200|maria-01\n"
            "20|172.29.0.171|3306|ONLINE|1000|200|maria-02\n"
            "20|172.29.0.172|3306|ONLINE|1000|200|maria-03\n");
  EXPECT_EQ(admin_sql("SELECT * FROM runtime_mysql_galera_hostgroups").out,
            "10|20|30|9999|1|1|0|100|keybuzz-galera\n");
  EXPECT_EQ(admin_sql("SELECT variable_value FROM runtime_global_variables WHERE variable_name = "
                      "'mysql-monitor_username'")
                .out,
            "kbz_monitor\n");
  // No password in any client's argv (ps, sshd logs): they travel in the option file or the environment.
  const std::string argv = log("argv");
  for (const auto& [k, v] : ctx_.credentials) EXPECT_EQ(argv.find(v), std::string::npos) << k;
}

// A re-apply's check: once in sync, `drift` only reads (SELECTs) and says so; the rows are parsed from the
// runtime tables, so a runtime that moved is seen, table by table.
TEST_F(ProxysqlNode, DriftReadsOnlyAndNamesTheTableThatMoved) {
  ASSERT_EQ(cli("sync").rc, 0);
  clear_logs();
  Ran r = cli("drift");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "in sync\n");
  EXPECT_TRUE(matches(check("proxysql-runtime-as-wanted"), r.out));
  for (const auto& st : lines_of(log("statements"))) EXPECT_TRUE(st.starts_with("SELECT ")) << st;

  const auto drifted = [&](const std::string& change, const std::string& want) {
    ASSERT_EQ(admin_sql(change).rc, 0) << change;
    const Ran d = cli("drift");
    EXPECT_EQ(d.rc, 1) << change;
    EXPECT_EQ(d.out, "differs: " + want + "\n") << change;
    EXPECT_FALSE(matches(check("proxysql-runtime-as-wanted"), d.out));
    ASSERT_EQ(cli("sync").rc, 0);  // and sync brings it back
    EXPECT_EQ(cli("drift").out, "in sync\n");
  };
  drifted("UPDATE runtime_mysql_servers SET port = 3307 WHERE hostname = '172.29.0.172'", "servers");
  drifted("DELETE FROM runtime_mysql_servers WHERE hostname = '172.29.0.171'", "servers");
  drifted("INSERT INTO runtime_mysql_servers (hostgroup_id, hostname, port) VALUES (10, '10.9.9.9', 3306)",
          "servers");
  drifted("UPDATE runtime_mysql_galera_hostgroups SET max_writers = 3", "galera_hostgroups");
  drifted("UPDATE runtime_mysql_galera_hostgroups SET writer_is_also_reader = 1", "galera_hostgroups");
  drifted("UPDATE runtime_mysql_users SET default_hostgroup = 30", "users");
  drifted("DELETE FROM runtime_mysql_users", "users");
  drifted(
      "UPDATE runtime_global_variables SET variable_value = 'monitor' WHERE variable_name = "
      "'mysql-monitor_password'",
      "monitor");
  // A server moved between the Galera hostgroups by ProxySQL's monitor is not drift: that is its job.
  ASSERT_EQ(
      admin_sql("UPDATE runtime_mysql_servers SET hostgroup_id = 9999 WHERE hostname = '172.29.0.170'").rc,
      0);
  EXPECT_EQ(cli("drift").out, "in sync\n");
}

TEST_F(ProxysqlNode, AdminInterfaceDownIsNotInSync) {
  fs::remove(conf("admin.cnf"));
  write(conf("admin.cnf"), "[client]\nuser=admin\npassword=wrong\nhost=127.0.0.1\nport=6032\n");
  const Ran r = cli("drift");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "admin interface does not answer\n");
  EXPECT_NE(cli("sync").rc, 0);
}

// `servers` parses runtime_mysql_servers (hostgroup_id, status) into the line the one-writer check reads.
TEST_F(ProxysqlNode, ServersCountsTheRuntimeHostgroups) {
  ASSERT_EQ(cli("sync").rc, 0);
  const VerifyCheck& one_writer = check("proxysql-one-writer");
  Ran r = cli("servers");
  EXPECT_EQ(r.out, "writers=1 backup_writers=2 readers=0 offline=0\n");
  EXPECT_TRUE(matches(one_writer, r.out));
  // The statement it sends, and nothing else.
  clear_logs();
  (void)cli("servers");
  EXPECT_EQ(log("statements"), "SELECT hostgroup_id, status FROM runtime_mysql_servers\n");

  const auto state = [&](const std::string& change, const std::string& want) {
    ASSERT_EQ(admin_sql(change).rc, 0) << change;
    const Ran s = cli("servers");
    EXPECT_EQ(s.out, want) << change;
    EXPECT_FALSE(matches(one_writer, s.out)) << change;
  };
  // The writer lost: ProxySQL's monitor puts it in the offline hostgroup.
  state("UPDATE runtime_mysql_servers SET hostgroup_id = 9999 WHERE hostname = '172.29.0.170'",
        "writers=0 backup_writers=2 readers=0 offline=1\n");
  // A backup writer promoted, the old writer still offline.
  state("UPDATE runtime_mysql_servers SET hostgroup_id = 10 WHERE hostname = '172.29.0.171'",
        "writers=1 backup_writers=1 readers=0 offline=1\n");
  // Two writers (max_writers ignored) is refused too.
  state("UPDATE runtime_mysql_servers SET hostgroup_id = 10, status = 'ONLINE'",
        "writers=3 backup_writers=0 readers=0 offline=0\n");
  // A shunned server counts as offline wherever it is.
  state(
      "UPDATE runtime_mysql_servers SET hostgroup_id = 20 WHERE hostname != '172.29.0.170'; "
      "UPDATE runtime_mysql_servers SET status = 'SHUNNED' WHERE hostname = '172.29.0.172'",
      "writers=1 backup_writers=1 readers=0 offline=1\n");
}

// The application through ProxySQL's frontend: the password from wanted.sql in MYSQL_PWD (never argv), the
// answer parsed by the proxysql-app-login check.
TEST_F(ProxysqlNode, AppLoginThroughTheFrontend) {
  const VerifyCheck& login = check("proxysql-app-login");
  Ran r = cli("app-login");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "maria-01\tSynced\n");
  EXPECT_TRUE(matches(login, r.out));
  EXPECT_EQ(log("argv").find(kAppPw), std::string::npos);
  EXPECT_NE(log("frontend").find("@@wsrep_node_name"), std::string::npos);
  // A backend still joining, or a refused login, fails the check.
  EXPECT_FALSE(matches(login, cli("app-login", "maria-02\tJoiner").out));
  write(conf("wanted.sql"), std::regex_replace(read(conf("wanted.sql")), std::regex(kAppPw), "stale"));
  r = cli("app-login");
  EXPECT_NE(r.rc, 0);
  EXPECT_FALSE(matches(login, r.out));
}

// The stand-in refuses what ProxySQL's tables refuse (else the statements above would prove nothing).
TEST_F(ProxysqlNode, StatementsProxysqlWouldRefuseAreRefused) {
  for (
      const char* bad : {
          "INSERT INTO mysql_servers (hostgroup, hostname) VALUES (10, '10.0.0.1')",  // no such column
          "INSERT INTO mysql_galera_hostgroups (writer_hostgroup, backup_writer_hostgroup, reader_hostgroup, "
          "offline_hostgroup) VALUES (10, 10, 30, 9999)",  // backup writer = writer: CHECK
          "INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (10, '10.0.0.1', 'UP')",  // status
          "LOAD MYSQL QUERY RULES TO RUNTIME",  // a command the module never sends
      }) {
    const Ran r = cli(std::string("admin -e ") + shell_quote(bad));
    EXPECT_NE(r.rc, 0) << bad;
  }
}

// The container's rolling ready check and `admin` pass SQL through as they are.
TEST_F(ProxysqlNode, AdminPassesStatementsThrough) {
  const Ran r = cli("admin -e 'SELECT 1'");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "1\n");
  EXPECT_EQ(log("statements"), "SELECT 1\n");
}

// proxysql.cnf: both ProxySQL nodes listed for the cluster sync (comma-separated, libconfig), the generated
// admin and cluster users, the monitor account.
TEST_F(ProxysqlNode, ConfigFileListsBothProxysqlAndTheGeneratedUsers) {
  const std::string cnf = render("proxysql.cnf.mustache");
  EXPECT_NE(
      cnf.find("admin_credentials=\"admin:" + std::string(kAdminPw) + ";kbz_cluster:" + kClusterPw + "\""),
      std::string::npos);
  EXPECT_NE(cnf.find("  { hostname=\"172.29.0.173\", port=6032, weight=0, comment=\"proxysql-01\" }\n"
                     "  ,{ hostname=\"172.29.0.174\", port=6032, weight=0, comment=\"proxysql-02\" }\n)"),
            std::string::npos)
      << cnf;
  EXPECT_NE(cnf.find("monitor_username=\"kbz_monitor\""), std::string::npos);
  EXPECT_EQ(cnf.find("admin:admin"), std::string::npos);  // never ProxySQL's default admin password
}

TEST(GaleraFailoverClient, WriteScriptTriesTheWrittenToNodeFirstThenTheNext) {
  const std::string s = galera_write_script("/usr/local/sbin/kbz-galera-cli",
                                            {"maria-01", "maria-02", "maria-03"}, "erpnext.t1");
  EXPECT_EQ(
      s,
      "for n in 'maria-01' 'maria-02' 'maria-03'; do\n"
      "  /usr/local/sbin/kbz-galera-cli app \"$n\" --connect-timeout=2 -e \"INSERT INTO erpnext.t1 (id, "
      "node) VALUES ($1, '$n')\" && exit 0\n"
      "done\n"
      "exit 1\n");
  EXPECT_EQ(galera_write_order({"maria-01", "maria-02", "maria-03"}), "maria-01 → maria-02 → maria-03");
}

// The script itself, with a stand-in kbz-galera-cli: the first node that commits acknowledges the row.
TEST(GaleraFailoverClient, WriteScriptFallsThroughToTheNextNode) {
  const fs::path d = fs::temp_directory_path() / ("kbz-galera-client-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  write((d / "cli").string(),
        "#!/bin/sh\n[ \"$2\" = maria-01 ] && exit 1\necho \"$2 $5\" >> " + (d / "took").string() + "\n");
  fs::permissions(d / "cli", fs::perms::owner_all);
  write((d / "w.sh").string(), galera_write_script((d / "cli").string(), {"maria-01", "maria-02"}, "t"));
  EXPECT_EQ(std::system(("sh " + (d / "w.sh").string() + " 7").c_str()), 0);
  EXPECT_EQ(read((d / "took").string()), "maria-02 INSERT INTO t (id, node) VALUES (7, 'maria-02')\n");
  write((d / "cli").string(), "#!/bin/sh\nexit 1\n");
  EXPECT_NE(std::system(("sh " + (d / "w.sh").string() + " 8").c_str()), 0);
  fs::remove_all(d);
}

TEST(GaleraFailoverClient, RowsByNodeParser) {
  using V = std::vector<std::pair<std::string, long>>;
  EXPECT_EQ(parse_rows_by_node("maria-01\t120\nmaria-02\t35\n"), (V{{"maria-01", 120}, {"maria-02", 35}}));
  EXPECT_EQ(parse_rows_by_node("maria-01\t120\r\n"), (V{{"maria-01", 120}}));
  EXPECT_EQ(parse_rows_by_node("ERROR 2013 (HY000): Lost connection\nmaria-01\tx\n\t3\nmaria-02 4\n"), V{});
}

}  // namespace
}  // namespace kbz
