#include <gtest/gtest.h>

#include "kbz/core/secret.hpp"
#include "kbz/report/suivi.hpp"

namespace kbz {
namespace {

RunRecord rec(std::string kind, int module, std::string status, std::string when = "2026-11-27T10:00:00Z") {
  RunRecord r;
  r.kind = std::move(kind);
  r.module = module;
  r.status = std::move(status);
  r.started_utc = std::move(when);
  r.duration_ms = 95000;
  r.hosts = 48;
  return r;
}

bool has(const std::string& t, const std::string& n) { return t.find(n) != std::string::npos; }

TEST(ReportSuivi, ModuleStates) {
  std::vector<RunRecord> runs;
  EXPECT_EQ(module_state(runs, 2), ModuleState::NotDone);
  runs.push_back(rec("plan", 2, "ok"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::NotDone);  // plans change nothing
  runs.push_back(rec("apply", 2, "ok"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::Applied);
  runs.push_back(rec("verify", 2, "failed"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::Failed);
  runs.push_back(rec("verify", 2, "ok"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::Done);
  runs.push_back(rec("apply", 2, "ok"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::Applied);  // re-applied since the last verify
  runs.push_back(rec("apply", 2, "interrupted"));
  EXPECT_EQ(module_state(runs, 2), ModuleState::Failed);
  EXPECT_EQ(module_state({rec("verify", 3, "ok")}, 3),
            ModuleState::NotDone);  // nothing applied by kbz-install
}

TEST(ReportSuivi, NextStepSkipsModulesThisBinaryDoesNotHave) {
  const std::vector<RunRecord> runs = {rec("apply", 2, "ok"), rec("verify", 2, "ok")};
  EXPECT_EQ(next_module(runs, {2, 4}), 4);  // 3 is not written yet: 4 is what can run next
  EXPECT_EQ(next_module(runs, {2}), 0);
  SuiviContext ctx;
  ctx.generated_utc = "2026-11-28T10:00:00Z";
  ctx.version = "0.3.0";
  ctx.available = {2, 4};
  const std::string text = render_suivi(runs, ctx);
  EXPECT_NE(text.find("kbz-install plan --module 4"), std::string::npos) << text;
  EXPECT_EQ(text.find("--module 3"), std::string::npos) << text;
  EXPECT_NE(text.find("Pas encore disponibles dans kbz-install 0.3.0 : module(s) 3, 5, 6, 7, 8, 9."),
            std::string::npos)
      << text;
}

TEST(ReportSuivi, NextStepIsTheFirstModuleNotDoneWithItsCommand) {
  std::vector<RunRecord> runs = {rec("apply", 2, "ok"), rec("verify", 2, "ok"), rec("apply", 3, "ok")};
  EXPECT_EQ(next_module(runs), 3);
  EXPECT_EQ(next_command(runs, 3, "kbz-install"), "kbz-install verify --module 3");
  runs.push_back(rec("verify", 3, "ok"));
  EXPECT_EQ(next_module(runs), 4);
  EXPECT_EQ(
      next_command(runs, 4, "kbz-install --workdir /srv/kbz"),
      "kbz-install --workdir /srv/kbz plan --module 4\nkbz-install --workdir /srv/kbz apply --module 4\n"
      "kbz-install --workdir /srv/kbz verify --module 4");
  runs.push_back(rec("apply", 4, "failed"));
  EXPECT_EQ(next_command(runs, 4, "kbz-install"),
            "kbz-install apply --module 4\nkbz-install verify --module 4");
}

TEST(ReportSuivi, RendersEveryModuleWithStateDatesProblemsAndLink) {
  Secret s("Sup3rS3cretRedisPw");
  std::vector<RunRecord> runs = {
      rec("apply", 2, "ok", "2026-11-27T09:00:00Z"), rec("verify", 2, "ok", "2026-11-27T09:20:00Z"),
      rec("apply", 3, "ok", "2026-07-01T12:00:00Z"), rec("verify", 3, "failed", "2026-07-01T12:30:00Z")};
  runs[1].report_path = "reports/RAPPORT_VALIDATION_MODULE2.md";
  runs[3].report_path = "reports/RAPPORT_VALIDATION_MODULE3.md";
  runs[3].hosts = 3;
  runs[3].hosts_failed = 1;
  runs[3].problems = {"db-slave-02: patroni-member: injoignable", "leak Sup3rS3cretRedisPw"};
  SuiviContext ctx{"2026-11-27T22:00:00Z", "0.1.0", "kbz-install", {{2, "Base OS & sécurité"}}, {}};
  const std::string md = render_suivi(runs, ctx);
  EXPECT_TRUE(has(md, "# 📋 Suivi d'Installation KeyBuzz V2"));
  EXPECT_TRUE(
      has(md,
          "| 2 | Base OS & sécurité | ✅ appliqué et vérifié | ✅ 27/11/2026 10:00 (Paris) | 1 min 35 s | "
          "✅ 27/11/2026 10:20 (Paris) | 1 min 35 s | 48 | "
          "[reports/RAPPORT_VALIDATION_MODULE2.md](reports/RAPPORT_VALIDATION_MODULE2.md) |"))
      << md;
  // Summer time in July: UTC+2.
  EXPECT_TRUE(has(
      md,
      "| 3 | PostgreSQL 16 HA (Patroni RAFT) | ❌ dernière exécution en échec | ✅ 01/07/2026 14:00 (Paris)"));
  EXPECT_TRUE(has(md, "| 3 (1 en échec) |"));
  EXPECT_TRUE(has(md, "| 9 | Kubernetes HA (kubeadm) | ⏳ non commencé | — |"));
  EXPECT_TRUE(has(md, "**Progression** : 1/8 modules appliqués et vérifiés (12,5 %)"));
  EXPECT_TRUE(has(md, "### Module 3 : PostgreSQL 16 HA (Patroni RAFT)"));
  EXPECT_TRUE(has(md, "  - db-slave-02: patroni-member: injoignable"));
  EXPECT_FALSE(has(md, "Sup3rS3cretRedisPw"));
  EXPECT_TRUE(has(md,
                  "## 🚀 Prochaine Étape\n\nModule 3 (PostgreSQL 16 HA (Patroni RAFT)) — ❌ dernière exécution "
                  "en échec :\n\n"
                  "```sh\nkbz-install verify --module 3\n```"));
  Masker::global().clear();
}

TEST(ReportSuivi, EmptyStateStartsAtModule2) {
  const std::string md =
      render_suivi({}, SuiviContext{"2026-11-27T22:00:00Z", "0.1.0", "kbz-install", {}, {}});
  EXPECT_TRUE(has(md, "Aucun problème enregistré"));
  EXPECT_TRUE(has(md, "Module 2 (Base OS & sécurité) — ⏳ non commencé"));
  EXPECT_TRUE(
      has(md, "kbz-install plan --module 2\nkbz-install apply --module 2\nkbz-install verify --module 2"));
}

}  // namespace
}  // namespace kbz

namespace kbz {
namespace {

TEST(ReportRunState, VerifyRecordPutsUnreachableHostsFirstAndOnce) {
  VerifyRun run;
  run.module = 2;
  run.hosts = {"web-01", "redis-01"};
  run.unreachable = {"redis-01: connect: Connection refused"};
  run.checks = {
      CheckResult{"ufw-active", "web-01", CheckStatus::Fail, "", "sortie sans « Status: active »", Millis{0}},
      CheckResult{"swap-off", "web-01", CheckStatus::Warn, "", "", Millis{0}},
      CheckResult{"ufw-active", "redis-01", CheckStatus::Fail, "",
                  "injoignable : connect: Connection refused", Millis{0}},
      CheckResult{"swap-off", "redis-01", CheckStatus::Fail, "", "injoignable : connect: Connection refused",
                  Millis{0}}};
  const RunRecord r = to_record(run, "reports/RAPPORT_VALIDATION_MODULE2.md");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.checks_failed, 3);
  EXPECT_EQ(r.checks_warned, 1);
  EXPECT_EQ(r.hosts_failed, 2);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0], "redis-01: injoignable (connect: Connection refused)");
  EXPECT_EQ(r.problems[1], "web-01: ufw-active: sortie sans « Status: active »");
  EXPECT_EQ(r.report_path, "reports/RAPPORT_VALIDATION_MODULE2.md");
}

}  // namespace
}  // namespace kbz
