#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "kbz/core/secret.hpp"
#include "kbz/run/run.hpp"
#include "kbz/runners/local_connection.hpp"
#include "kbz/verify/runner.hpp"

namespace kbz {
namespace {

Host host(std::string name, std::string role) {
  Host h;
  h.hostname = std::move(name);
  h.role = std::move(role);
  h.env = "prod";
  h.address = "127.0.0.1";
  return h;
}

VerifyCheck check(std::string id, std::string command, std::string expect_regex = "",
                  Severity sev = Severity::Error) {
  VerifyCheck c;
  c.id = std::move(id);
  c.title_fr = "Test " + c.id;
  c.component = "Composant";
  c.command = std::move(command);
  c.expect_regex = std::move(expect_regex);
  c.severity = sev;
  return c;
}

Module test_module() {
  Module m;
  m.number = 2;
  m.title_fr = "Base OS & sécurité";
  m.targets = "all";
  m.checks = {check("echo-ok", "echo 'Status: active'", "Status: active"),
              check("exit-3", "echo boom; exit 3"),
              check("soft", "echo 'NTP service: inactive'", "NTP service: active", Severity::Warning),
              check("version-tool", "printf '\\n  1.2.3  \\n'")};
  VerifyCheck db_only = check("db-only", "echo db");
  db_only.hosts = "role:db";
  VerifyCheck never = check("never", "echo should-not-count");
  never.when = "facts.init == no-such-init";
  VerifyCheck always = check("always", "echo yes");
  always.when = "facts.os_id != no-such-os";
  m.checks.push_back(db_only);
  m.checks.push_back(never);
  m.checks.push_back(always);
  return m;
}

// Real commands through the local shell; "redis-01" refuses like a host that is down.
struct LocalFleet {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<LocalConnection>> conns;
  Connector connector() {
    return [this](const Host& h) -> Result<Connection*> {
      if (h.hostname == "redis-01")
        return fail(ErrorKind::Connect, "connect 10.0.0.123:22: Connection refused");
      std::lock_guard lock(mutex);
      auto& c = conns[h.hostname];
      if (!c) c = std::make_unique<LocalConnection>(h, Millis{20000});
      return c.get();
    };
  }
};

const CheckResult* find(const VerifyRun& run, const std::string& host, const std::string& id) {
  for (const auto& c : run.checks)
    if (c.host == host && c.check_id == id) return &c;
  return nullptr;
}

TEST(VerifyRunner, OneExecPerHostAndEveryOutcome) {
  LocalFleet fleet;
  const std::vector<Host> hosts = {host("web-01", "app"), host("db-01", "db"), host("redis-01", "redis")};
  VerifyOptions opts{4, Millis{20000}, false, "inventory/servers.tsv", {}};
  const VerifyRun run = run_verify(test_module(), hosts, fleet.connector(), opts, FailoverRegistry{});

  EXPECT_EQ(run.module, 2);
  EXPECT_EQ(run.inventory_path, "inventory/servers.tsv");
  EXPECT_EQ(run.hosts, (std::vector<std::string>{"web-01", "db-01", "redis-01"}));
  EXPECT_FALSE(run.started_utc.empty());

  // web-01: 6 applicable checks (db-only excluded by its selector).
  EXPECT_EQ(find(run, "web-01", "echo-ok")->status, CheckStatus::Pass);
  EXPECT_EQ(find(run, "web-01", "echo-ok")->value, "Status: active");
  EXPECT_EQ(find(run, "web-01", "exit-3")->status, CheckStatus::Fail);
  EXPECT_EQ(find(run, "web-01", "exit-3")->detail, "code de sortie 3 (attendu 0)");
  EXPECT_EQ(find(run, "web-01", "soft")->status, CheckStatus::Warn);
  EXPECT_EQ(find(run, "web-01", "never")->status, CheckStatus::Skipped);
  EXPECT_EQ(find(run, "web-01", "always")->status, CheckStatus::Pass);
  EXPECT_EQ(find(run, "web-01", "db-only"), nullptr);
  EXPECT_EQ(find(run, "db-01", "db-only")->status, CheckStatus::Pass);
  EXPECT_EQ(run.versions_found.at("web-01").at("Composant"), "1.2.3");

  // The unreachable host: every applicable check fails, with the reason; listed, never hidden.
  ASSERT_EQ(run.unreachable.size(), 1u);
  EXPECT_EQ(run.unreachable[0], "redis-01: connect 10.0.0.123:22: Connection refused");
  int redis_results = 0;
  for (const auto& c : run.checks)
    if (c.host == "redis-01") {
      ++redis_results;
      EXPECT_EQ(c.status, CheckStatus::Fail);
      EXPECT_EQ(c.detail, "injoignable : connect 10.0.0.123:22: Connection refused");
    }
  EXPECT_EQ(redis_results, 6);
  EXPECT_FALSE(run.ok());

  // ONE exec per reachable host: facts and checks went in the same batch.
  EXPECT_EQ(fleet.conns.at("web-01")->stats().execs, 1u);
  EXPECT_EQ(fleet.conns.at("db-01")->stats().execs, 1u);
  EXPECT_TRUE(run.host_durations.contains("web-01"));
}

// kbz.yaml `lab: true`: a check or scenario marked `lab: "why"` is never run and never a pass: "non testé".
TEST(VerifyRunner, InTheLabWhatItCannotRunIsReportedNotTested) {
  Module m;
  m.number = 7;
  VerifyCheck proxysql = check("proxysql-writer", "exit 1");
  proxysql.lab_untested = "ProxySQL n'a ni paquet ni image ici";
  m.checks = {check("galera", "echo ok"), proxysql};
  FailoverScenario sc{"proxysql-loss", "not-registered", "Perte d'un ProxySQL", {}, "production seulement"};
  m.failover = {sc};
  LocalFleet fleet;
  VerifyOptions lab{4, Millis{20000}, true, "inv", {}};
  lab.templates.settings["lab"] = "true";
  const VerifyRun run = run_verify(m, {host("maria-01", "db")}, fleet.connector(), lab, FailoverRegistry{});
  EXPECT_EQ(find(run, "maria-01", "galera")->status, CheckStatus::Pass);
  EXPECT_EQ(find(run, "maria-01", "proxysql-writer")->status, CheckStatus::NotTested);
  EXPECT_EQ(find(run, "maria-01", "proxysql-writer")->detail,
            "non testé dans le lab : ProxySQL n'a ni paquet ni image ici");
  ASSERT_EQ(run.failovers.size(), 1u);
  EXPECT_EQ(run.failovers[0].status, CheckStatus::NotTested)
      << "not run, so its unknown kind is not even looked up";
  EXPECT_TRUE(run.ok()) << "nothing failed";

  VerifyOptions prod{4, Millis{20000}, false, "inv", {}};
  prod.templates.settings["lab"] = "false";
  const VerifyRun real = run_verify(m, {host("maria-01", "db")}, fleet.connector(), prod, FailoverRegistry{});
  EXPECT_EQ(find(real, "maria-01", "proxysql-writer")->status, CheckStatus::Fail)
      << "outside the lab it runs";
}

TEST(VerifyRunner, SecretsInOutputAreMaskedAndNeverSentInACommand) {
  const std::string secret = "rB7pQ2zXv9LmN4tK";
  Secret s(secret);
  // The secret reaches the output from a file on the host, as a real config file would show it.
  char path[] = "/tmp/kbz-verify-secret-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string content = "password=" + secret + "\n";
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  Module m;
  m.number = 2;
  m.checks = {check("leaky", std::string("cat ") + path, "nope"), check("in-argv", "echo " + secret)};
  LocalFleet fleet;
  const VerifyRun run =
      run_verify(m, {host("web-01", "app")}, fleet.connector(), VerifyOptions{}, FailoverRegistry{});
  std::remove(path);
  ASSERT_EQ(run.checks.size(), 2u);
  EXPECT_EQ(run.checks[0].value, "password=***");
  // A command holding a secret is refused, not run (argv is visible in ps), and the refusal is masked too.
  EXPECT_EQ(run.checks[1].status, CheckStatus::Fail);
  EXPECT_NE(run.checks[1].detail.find("commande non rendue"), std::string::npos);
  EXPECT_EQ(run.checks[1].detail.find(secret), std::string::npos);
  Masker::global().clear();
}

TEST(VerifyRunner, FailoverRunsOnlyWhenAskedAndUnknownKindIsALoadError) {
  Module m = test_module();
  m.failover = {FailoverScenario{"stop-master", "test-stop", "Arrêt du maître", {{"target", "db-01"}}, ""}};
  FailoverRegistry registry;
  EXPECT_FALSE(check_failover_kinds(m, registry));
  EXPECT_NE(check_failover_kinds(m, registry).error().message.find("unknown kind 'test-stop'"),
            std::string::npos);

  int calls = 0;
  registry.add("test-stop", [&calls](VerifyContext& ctx) {
    ++calls;
    FailoverResult r;
    const std::string target = ctx.scenario.params.at("target");
    auto it =
        std::find_if(ctx.hosts.begin(), ctx.hosts.end(), [&](const Host& h) { return h.hostname == target; });
    auto conn = ctx.connect(*it);
    auto res = (*conn)->run(ExecRequest{"echo switched", "", Privilege::AsUser, Millis{5000}});
    r.status = res && res->out == "switched\n" ? CheckStatus::Pass : CheckStatus::Fail;
    r.measures = {{"Temps de bascule", "0 s"}};
    return r;
  });
  ASSERT_TRUE(check_failover_kinds(m, registry));

  LocalFleet fleet;
  const std::vector<Host> hosts = {host("db-01", "db")};
  auto without = run_verify(m, hosts, fleet.connector(), VerifyOptions{}, registry);
  EXPECT_TRUE(without.failovers.empty());
  EXPECT_EQ(calls, 0);
  VerifyOptions with;
  with.failover = true;
  auto run = run_verify(m, hosts, fleet.connector(), with, registry);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(run.failovers.size(), 1u);
  EXPECT_EQ(run.failovers[0].scenario_id, "stop-master");
  EXPECT_EQ(run.failovers[0].title_fr, "Arrêt du maître");
  EXPECT_EQ(run.failovers[0].status, CheckStatus::Pass);
}

TEST(VerifyRunner, ModuleHostsAndCheckSelectors) {
  const std::vector<Host> targets = {host("web-01", "app"), host("db-01", "db"), host("db-02", "db")};
  Module m;
  m.number = 3;
  m.targets = "role:db";
  auto hs = module_hosts(m, targets, "");
  ASSERT_TRUE(hs);
  EXPECT_EQ(hs->size(), 2u);
  auto narrowed = module_hosts(m, targets, "db-02");
  ASSERT_TRUE(narrowed);
  ASSERT_EQ(narrowed->size(), 1u);
  EXPECT_EQ((*narrowed)[0].hostname, "db-02");
  EXPECT_FALSE(module_hosts(m, targets, "web-01"));  // not a host of this module: an error, not an empty run

  VerifyCheck c;
  c.hosts = "web-*, role:db";
  EXPECT_TRUE(check_applies(c, targets[0]));
  EXPECT_TRUE(check_applies(c, targets[1]));
  c.hosts = "db-02";
  EXPECT_FALSE(check_applies(c, targets[1]));
  auto batch = host_batch(test_module(), targets[0], TemplateContext{});
  ASSERT_FALSE(batch.items.empty());
  EXPECT_EQ(batch.items[0].id, kFactsItemId);
  EXPECT_EQ(batch.items.size(), 1u + 6u);
  EXPECT_TRUE(batch.render_errors.empty());
}

TEST(VerifyRunner, ChecksAreRenderedPerHostAndFactsAreShellVariables) {
  Module m;
  m.number = 2;
  m.source_dir = "modules/02-base-os";
  m.checks = {check("hostname", "echo \"{{host.hostname}}\"; [ \"{{host.hostname}}\" = web-01 ]"),
              check("tz", "echo {{settings.timezone}}", "Europe/Paris"),
              check("facts", "echo \"unit={{facts.ssh_unit}}\"", "^unit=")};
  TemplateContext base;
  base.settings = {{"timezone", "Europe/Paris"}};
  const std::vector<Host> hosts = {host("web-01", "app"), host("db-01", "db")};
  ASSERT_TRUE(validate_check_commands(m, hosts, base));
  LocalFleet fleet;
  VerifyOptions opts;
  opts.templates = base;
  const VerifyRun run = run_verify(m, hosts, fleet.connector(), opts, FailoverRegistry{});
  EXPECT_EQ(find(run, "web-01", "hostname")->status, CheckStatus::Pass);
  EXPECT_EQ(find(run, "db-01", "hostname")->status, CheckStatus::Fail);
  EXPECT_EQ(find(run, "db-01", "hostname")->value, "db-01");
  EXPECT_EQ(find(run, "web-01", "tz")->value, "Europe/Paris");
  EXPECT_EQ(find(run, "web-01", "facts")->status, CheckStatus::Pass);

  // An unknown settings name is an input error before any host is contacted.
  m.checks.push_back(check("typo", "echo {{settings.timezon}}"));
  auto bad = validate_check_commands(m, hosts, base);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Input);
  EXPECT_NE(bad.error().message.find("verify check 'typo' for host web-01"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace kbz
