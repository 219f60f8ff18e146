// Module 8 (ProxySQL advanced + Galera tuning). ProxySQL cannot run in the lab, so every SQL statement its
// helper sends and every admin output it reads is proven here: the module's own templates are rendered with
// the engine's renderer (five hosts as in the lab, kbz.yaml defaults or overrides), written to a temporary
// folder and run with stand-ins for the mariadb client, curl and kbz-galera-cli on PATH
// (tests/fixtures/proxysql-advanced/fake-*.sh) that answer with outputs built from ProxySQL 2.6's documented
// table layouts (tests/fixtures/proxysql-advanced/README.md). kbz.yaml's refusal of unknown ProxySQL variable
// names, the Galera tuning's one merged wsrep_provider_options line, its sizing from the host's memory and
// the live read-back are tested the same way.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/failover/galera_rolling_restart.hpp"

namespace fs = std::filesystem;

namespace kbz {
namespace {

const std::string kFixtures = std::string(KBZ_FIXTURES_DIR) + "/proxysql-advanced/";
const ModuleSource kSource{std::string(KBZ_SOURCE_DIR) + "/modules"};

struct Ran {
  int rc = -1;
  std::string out;
};

Ran run(const std::string& command) {
  Ran r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

Host host(const std::string& name, const std::string& ip, const std::string& subrole) {
  Host h;
  h.hostname = name;
  h.private_ip = ip;
  h.role = subrole == "mariadb" ? "db" : "db_proxy";
  h.subrole = subrole;
  return h;
}

std::vector<SettingSpec> declared() {
  auto all = load_all_modules(kSource);
  EXPECT_TRUE(all) << all.error().message;
  return all ? declared_settings(*all) : std::vector<SettingSpec>{};
}

Result<Settings> settings_from(const std::string& yaml) {
  return parse_settings(yaml, "kbz.yaml", declared());
}

// One module 8 template rendered for `me` (the lab's five hosts), kbz.yaml = `yaml`.
std::string render(const std::string& name, const std::string& me, const std::string& yaml = "") {
  auto m = load_module(8, kSource);
  EXPECT_TRUE(m) << m.error().message;
  auto s = settings_from(yaml);
  EXPECT_TRUE(s) << s.error().message;
  if (!m || !s) return {};
  TemplateContext ctx;
  ctx.all_hosts = {host("maria-01", "10.0.0.170", "mariadb"), host("maria-02", "10.0.0.171", "mariadb"),
                   host("maria-03", "10.0.0.172", "mariadb"), host("proxysql-01", "10.0.0.173", "proxysql"),
                   host("proxysql-02", "10.0.0.174", "proxysql")};
  for (const auto& h : ctx.all_hosts)
    if (h.hostname == me) ctx.host = h;
  ctx.settings = s->raw;
  ctx.credentials = {{"MARIADB_APP_PASSWORD", "app-secret-xyz"},
                     {"PROXYSQL_CLUSTER_PASSWORD", "cluster-secret"}};
  const auto it = m->templates.find(name);
  EXPECT_NE(it, m->templates.end()) << name;
  if (it == m->templates.end()) return {};
  auto text = render_template(it->second, ctx, name);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : std::string{};
}

// A scratch folder: bin/ (the rendered helper and the stand-ins), fx/ (the answers), log.
class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/kbz-m8-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "fx" / "peer");
    for (const auto& [fake, as] : {std::pair{"fake-mariadb.sh", "mariadb"},
                                   {"fake-curl.sh", "curl"},
                                   {"fake-galera-cli.sh", "kbz-galera-cli"}})
      fs::copy_file(kFixtures + fake, dir_ / "bin" / as);
  }
  ~Scratch() { fs::remove_all(dir_); }
  void helper(const std::string& name, const std::string& text) {
    write(dir_ / "bin" / name, text);
    fs::permissions(dir_ / "bin" / name, fs::perms::owner_all);
  }
  // Copies a fixture folder's answers (runtime_*.tsv) into fx/ (and fx/peer/ for the peer).
  void answers(const std::string& local, const std::string& peer = "") {
    for (const auto& [from, to] : {std::pair{local, dir_ / "fx"}, {peer, dir_ / "fx" / "peer"}}) {
      if (from.empty()) continue;
      for (const auto& e : fs::directory_iterator(kFixtures + from))
        fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
    }
  }
  void file(const std::string& rel, const std::string& text) { write(dir_ / "fx" / rel, text); }
  Ran sh(const std::string& cmd, const std::string& env = "") const {
    return run("cd " + dir_.string() + " && env PATH=" + (dir_ / "bin").string() +
               ":/usr/bin:/bin FAKE_DIR=" + (dir_ / "fx").string() + " FAKE_LOG=" + (dir_ / "log").string() +
               " " + env + " " + cmd);
  }
  std::string log() const { return read((dir_ / "log").string()); }
  fs::path path() const { return dir_; }

 private:
  fs::path dir_;
};

// ---- kbz.yaml: ProxySQL variable names --------------------------------------------------------------------

TEST(ProxysqlSettings, UnknownVariableNameIsRefusedNamingTheKey) {
  // The team's UPDATEs on mysql-galera_* / mysql-server_advanced_check* changed nothing: ProxySQL 2.6 has no
  // such variable. kbz.yaml refuses the name instead of writing it.
  auto s = settings_from("proxysql:\n  mysql_variables:\n    galera_check_interval: 2000\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Input);
  EXPECT_NE(s.error().message.find("proxysql.mysql_variables.galera_check_interval"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("kbz.yaml:3"), std::string::npos) << s.error().message;
  auto a = settings_from("proxysql:\n  admin_variables:\n    restapi_bind: 10.0.0.173\n");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("proxysql.admin_variables.restapi_bind"), std::string::npos);
  // A known name with a wrong value is refused too; a quote in a query rule cannot break the SQL.
  EXPECT_FALSE(settings_from("proxysql:\n  mysql_variables:\n    multiplexing: maybe\n"));
  EXPECT_FALSE(settings_from("proxysql:\n  query_rules: [\"writer:^SELECT'\"]\n"));
  EXPECT_FALSE(settings_from("proxysql:\n  query_rules: [\"primary:.*\"]\n"));
  EXPECT_TRUE(
      settings_from("proxysql:\n  mysql_variables:\n    monitor_galera_healthcheck_interval: 1000\n"));
}

TEST(ProxysqlSettings, EveryDeclaredVariableIsOneProxysql26Knows) {
  // The names module 8 may write, checked against the variable tables of ProxySQL 2.6's source
  // (MySQL_Thread.cpp mysql_thread_variables_names, ProxySQL_Admin.cpp admin_variables_names).
  const std::set<std::string> mysql26 = {"multiplexing",
                                         "connection_delay_multiplex_ms",
                                         "auto_increment_delay_multiplex",
                                         "connection_max_age_ms",
                                         "free_connections_pct",
                                         "max_connections",
                                         "default_query_timeout",
                                         "connect_timeout_server",
                                         "ping_timeout_server",
                                         "shun_on_failures",
                                         "shun_recovery_time_sec",
                                         "max_transaction_time",
                                         "monitor_enabled",
                                         "monitor_connect_interval",
                                         "monitor_ping_interval",
                                         "monitor_history",
                                         "monitor_galera_healthcheck_interval",
                                         "monitor_galera_healthcheck_timeout",
                                         "monitor_galera_healthcheck_max_timeout_count"};
  const std::set<std::string> admin26 = {"restapi_enabled", "restapi_port",
                                         "prometheus_memory_metrics_interval"};
  auto m = load_module(8, kSource);
  ASSERT_TRUE(m) << m.error().message;
  int n = 0;
  for (const auto& s : m->settings) {
    for (const auto& [prefix, names] : {std::pair{std::string("proxysql.mysql_variables."), &mysql26},
                                        {std::string("proxysql.admin_variables."), &admin26}})
      if (s.key.starts_with(prefix)) {
        EXPECT_TRUE(names->contains(s.key.substr(prefix.size()))) << s.key;
        ++n;
      }
  }
  EXPECT_EQ(n, static_cast<int>(mysql26.size() + admin26.size()));
  // ... and the helper writes each of them (a declared key the helper forgot would never reach ProxySQL).
  const std::string helper = render("kbz-proxysql-tune.mustache", "proxysql-01");
  for (const auto& v : mysql26) EXPECT_NE(helper.find("\nmysql-" + v + "="), std::string::npos) << v;
  for (const auto& v : admin26) EXPECT_NE(helper.find("\nadmin-" + v + "="), std::string::npos) << v;
}

// ---- ProxySQL: the SQL sent
// ---------------------------------------------------------------------------------

TEST(ProxysqlSql, DefaultsSendTheTeamsSingleWriterRuleAndLimits) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  const Ran r = s.sh("kbz-proxysql-tune sql");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, read(kFixtures + "sql-default.sql"));
}

TEST(ProxysqlSql, ReadWriteSplitOption) {
  Scratch s;
  s.helper("kbz-proxysql-tune",
           render("kbz-proxysql-tune.mustache", "proxysql-01",
                  "proxysql:\n  query_rules: [\"writer:^SELECT.*FOR\\\\sUPDATE\", \"reader:^SELECT\", "
                  "\"writer:.*\"]\n  app_max_connections: 300\n  transaction_persistent: false\n"));
  const Ran r = s.sh("kbz-proxysql-tune sql");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, read(kFixtures + "sql-rw-split.sql"));
}

TEST(ProxysqlSql, SyncSendsTheSqlOnStdinThenFindsNoDrift) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-wanted");
  const Ran r = s.sh("kbz-proxysql-tune sync");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("in sync"), std::string::npos) << r.out;
  const std::string log = s.log();
  EXPECT_NE(log.find("stdin to 127.0.0.1:\n" + read(kFixtures + "sql-default.sql")), std::string::npos)
      << log;
  // The admin password is read from the option file, never passed on the command line.
  EXPECT_EQ(log.find("password"), std::string::npos);
}

TEST(ProxysqlSql, SyncRefusedIsAnError) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-wanted");
  s.file("refuse-stdin", "");
  const Ran r = s.sh("kbz-proxysql-tune sync");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("refused the SQL"), std::string::npos) << r.out;
}

// ---- ProxySQL: the runtime tables read back --------------------------------------------------------------

TEST(ProxysqlDrift, RuntimeEqualToWantedIsInSync) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-wanted");
  const Ran r = s.sh("kbz-proxysql-tune drift");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "in sync\n");
  // What it read: the four runtime tables, through the local admin interface.
  const std::string log = s.log();
  for (const char* t : {"runtime_mysql_servers", "runtime_mysql_users", "runtime_mysql_query_rules",
                        "runtime_global_variables"})
    EXPECT_NE(log.find(t), std::string::npos) << t;
  EXPECT_NE(log.find("SELECT DISTINCT hostname, port, weight, max_connections FROM runtime_mysql_servers"),
            std::string::npos);
}

TEST(ProxysqlDrift, ModuleSevenOnlyStateDiffersAndNamesWhat) {
  // Right after module 7: equal weights, erpnext limited to 1000, no query rule, exporter off.
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-module7");
  const Ran r = s.sh("kbz-proxysql-tune drift");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("differs: rules servers users variables"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("admin-restapi_enabled live=false wanted=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mysql-monitor_galera_healthcheck_max_timeout_count absent"), std::string::npos)
      << r.out;
}

TEST(ProxysqlDrift, AdminDownIsReportedNotInSync) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-wanted");
  s.file("down", "");
  const Ran r = s.sh("kbz-proxysql-tune drift");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("admin interface does not answer on proxysql-01"), std::string::npos) << r.out;
}

TEST(ProxysqlCluster, SameRuntimeTablesOnBothNodes) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  s.answers("runtime-wanted", "runtime-wanted");
  const Ran r = s.sh("kbz-proxysql-tune cluster-sync");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "same runtime servers, users, rules and variables on proxysql-01 and proxysql-02\n");
  // The peer is read on its private address with the cluster account's option file.
  EXPECT_NE(s.log().find("-e to 10.0.0.174: SELECT rule_id"), std::string::npos) << s.log();
  EXPECT_EQ(s.log().find("-e to 10.0.0.173"), std::string::npos);  // never itself as a peer
}

TEST(ProxysqlCluster, PeerBehindIsNamedWithTheTablesThatDiffer) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-02"));
  s.answers("runtime-wanted", "runtime-module7");
  const Ran r = s.sh("kbz-proxysql-tune cluster-sync");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_EQ(r.out, "differs from proxysql-02: proxysql-01: rules servers users variables;\n");
  s.file("peer/down", "");
  const Ran d = s.sh("kbz-proxysql-tune cluster-sync");
  EXPECT_EQ(d.rc, 1);
  EXPECT_NE(d.out.find("proxysql-01: admin unreachable"), std::string::npos) << d.out;
}

TEST(ProxysqlExporter, MetricsOnThePrivateAddress) {
  Scratch s;
  s.helper("kbz-proxysql-tune", render("kbz-proxysql-tune.mustache", "proxysql-01"));
  fs::copy_file(kFixtures + "metrics.txt", s.path() / "fx" / "metrics.txt");
  const Ran r = s.sh("kbz-proxysql-tune metrics");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "exporter on 10.0.0.173:6070: 6 proxysql_* samples, uptime 263 s\n");
  EXPECT_NE(s.log().find("curl http://10.0.0.173:6070/metrics"), std::string::npos);
  fs::copy_file(kFixtures + "metrics-no-uptime.txt", s.path() / "fx" / "metrics.txt",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(s.sh("kbz-proxysql-tune metrics").rc, 1);
  s.file("metrics-down", "");
  const Ran d = s.sh("kbz-proxysql-tune metrics");
  EXPECT_EQ(d.rc, 1);
  EXPECT_NE(d.out.find("no answer from http://10.0.0.173:6070/metrics"), std::string::npos) << d.out;
}

// ---- Galera tuning
// ------------------------------------------------------------------------------------------

std::string tune_env(const Scratch& s, const std::string& meminfo, const std::string& cgroup = "none") {
  return "KBZ_GALERA_CLI=" + (s.path() / "bin" / "kbz-galera-cli").string() + " KBZ_MEMINFO=" + kFixtures +
         meminfo + " KBZ_CGROUP_MAX=" + kFixtures + "cgroup-max-" + cgroup +
         ".txt KBZ_TUNING_CNF=" + (s.path() / "tuning.cnf").string();
}

TEST(GaleraTuning, OneMergedProviderLineAndTheTeamsSizes) {
  Scratch s;
  s.helper("kbz-galera-tune", render("kbz-galera-tune.mustache", "maria-02"));
  const Ran r = s.sh("kbz-galera-tune conf", tune_env(s, "meminfo-8g.txt"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, read(kFixtures + "tuning-default.cnf"));
  size_t lines = 0;
  for (size_t p = r.out.find("\nwsrep_provider_options="); p != std::string::npos;
       p = r.out.find("\nwsrep_provider_options=", p + 1))
    ++lines;
  EXPECT_EQ(lines, 1U);
  for (const char* opt :
       {"gcache.size=1G", "pc.recovery=TRUE", "gcs.fc_limit=256", "evs.suspect_timeout=PT10S"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

TEST(GaleraTuning, BufferPoolFromTheHostsMemory) {
  Scratch s;
  s.helper("kbz-galera-tune",
           render("kbz-galera-tune.mustache", "maria-01", "galera:\n  innodb_buffer_pool_size: auto\n"));
  // 8 GiB host: half, rounded down to 128 MiB = 3968 MiB.
  Ran r = s.sh("kbz-galera-tune conf", tune_env(s, "meminfo-8g.txt"));
  EXPECT_NE(r.out.find("innodb_buffer_pool_size=4160749568\n"), std::string::npos) << r.out;
  // The cgroup limit (3 GiB) is lower than MemTotal: it counts.
  r = s.sh("kbz-galera-tune conf", tune_env(s, "meminfo-8g.txt", "3g"));
  EXPECT_NE(r.out.find("innodb_buffer_pool_size=1610612736\n"), std::string::npos) << r.out;
  // A fixed size above 80 % of the memory is refused, naming the setting.
  Scratch t;
  t.helper("kbz-galera-tune",
           render("kbz-galera-tune.mustache", "maria-01", "galera:\n  innodb_buffer_pool_size: 7G\n"));
  r = t.sh("kbz-galera-tune conf", tune_env(t, "meminfo-8g.txt"));
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("galera.innodb_buffer_pool_size"), std::string::npos) << r.out;
  // The team's 1G on a 2 GiB host: allowed (under 80 %).
  Scratch u;
  u.helper("kbz-galera-tune", render("kbz-galera-tune.mustache", "maria-01"));
  r = u.sh("kbz-galera-tune conf", tune_env(u, "meminfo-2g.txt"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("innodb_buffer_pool_size=1073741824\n"), std::string::npos) << r.out;
}

TEST(GaleraTuning, ConfOkSeesAnAbsentOrDifferentFile) {
  Scratch s;
  s.helper("kbz-galera-tune", render("kbz-galera-tune.mustache", "maria-01"));
  const std::string env = tune_env(s, "meminfo-8g.txt");
  Ran r = s.sh("kbz-galera-tune conf-ok", env);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("absent"), std::string::npos) << r.out;
  write(s.path() / "tuning.cnf",
        read(kFixtures + "tuning-default.cnf") + "wsrep_provider_options=\"pc.recovery=TRUE\"\n");
  r = s.sh("kbz-galera-tune conf-ok", env);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("differs from the wanted tuning"), std::string::npos) << r.out;
}

TEST(GaleraTuning, LiveValuesReadBackEqualTheWantedOnes) {
  Scratch s;
  s.helper("kbz-galera-tune", render("kbz-galera-tune.mustache", "maria-01"));
  fs::copy_file(kFixtures + "galera-live-tuned.tsv", s.path() / "fx" / "galera-live.tsv");
  const Ran r = s.sh("kbz-galera-tune live-ok", tune_env(s, "meminfo-8g.txt"));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "every tuned variable live as wanted\n");
  const Ran l = s.sh("kbz-galera-tune live", tune_env(s, "meminfo-8g.txt"));
  EXPECT_NE(l.out.find("provider:gcs.fc_single_primary live=YES wanted=YES ok"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("provider:gcs.fc_factor live=1 wanted=1.0 ok"), std::string::npos) << l.out;
}

TEST(GaleraTuning, TheTeamsErasedProviderLineIsSeenLive) {
  // The team's second wsrep_provider_options="pc.recovery=TRUE" line replaced the first: live, the flow
  // control stays at Galera's defaults and gcache.size at 128M. The read-back says so, option by option.
  Scratch s;
  s.helper("kbz-galera-tune", render("kbz-galera-tune.mustache", "maria-01"));
  fs::copy_file(kFixtures + "galera-live-erased.tsv", s.path() / "fx" / "galera-live.tsv");
  const Ran r = s.sh("kbz-galera-tune live-ok", tune_env(s, "meminfo-8g.txt"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("provider:gcache.size live=128M wanted=1G DIFFERS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("provider:gcs.fc_limit live=16 wanted=256 DIFFERS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_connections live=151 wanted=500 DIFFERS"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("provider:pc.recovery live=true wanted=TRUE DIFFERS"), std::string::npos) << r.out;
}

TEST(GaleraTuning, WriterIsTheFirstGaleraNode) {
  Scratch s;
  s.helper("w1", render("kbz-galera-tune.mustache", "maria-01"));
  s.helper("w2", render("kbz-galera-tune.mustache", "maria-02"));
  EXPECT_EQ(s.sh("w1 is-writer").rc, 0);
  EXPECT_EQ(s.sh("w2 is-writer").rc, 1);
}

TEST(GaleraTuning, RolledStepAndRestartOrder) {
  auto m = load_module(8, kSource);
  ASSERT_TRUE(m) << m.error().message;
  const auto it = std::find_if(m->steps.begin(), m->steps.end(),
                               [](const Step& st) { return st.id == "galera-tuning-live"; });
  ASSERT_NE(it, m->steps.end());
  ASSERT_TRUE(it->rolling.has_value());
  EXPECT_EQ(it->rolling->primary_check, "/usr/local/sbin/kbz-galera-tune is-writer");
  EXPECT_EQ(it->rolling->ready, "/usr/local/sbin/kbz-galera-tune ready");
  // The failover test restarts in the engine's order: non-writers in inventory order, the writer last.
  EXPECT_EQ(rolling_restart_order({true, false, false}), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(rolling_restart_order({false, true, false}), (std::vector<size_t>{0, 2, 1}));
}

TEST(DbClient, LabStandInTriesTheWriterThenTheBackupWriters) {
  const std::string lab = render("kbz-db-client.mustache", "proxysql-01", "lab: true\n");
  EXPECT_NE(lab.find("backends=\"10.0.0.170 10.0.0.171 10.0.0.172 \""), std::string::npos) << lab;
  EXPECT_NE(lab.find("lab=true"), std::string::npos);
  const std::string prod = render("kbz-db-client.mustache", "proxysql-01");
  EXPECT_NE(prod.find("lab=false"), std::string::npos);
  Scratch s;
  s.helper("kbz-db-client", lab);
  s.file("peer/down", "");  // every backend refuses: no false acknowledgement
  const Ran r = s.sh("kbz-db-client sql -e 'SELECT 1' </dev/null");
  EXPECT_NE(r.rc, 0);
}

}  // namespace
}  // namespace kbz
