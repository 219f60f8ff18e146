#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "fixtures/report/module2_fixture.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/report/validation_report.hpp"

namespace kbz {
namespace {

using testing::module2;
using testing::module2_run;
using testing::result;

ReportContext context() {
  ReportContext c;
  c.generated_utc = "2026-11-27T22:02:00Z";
  c.version = "0.1.0";
  c.command_line = "kbz-install verify --module 2";
  c.next_module = 3;
  c.next_module_title = "PostgreSQL 16 HA (Patroni RAFT)";
  return c;
}

// "## heading" -> its text up to the next "## " heading (title block under "#").
std::map<std::string, std::string> sections(const std::string& md) {
  std::map<std::string, std::string> out;
  std::istringstream in(md);
  std::string line, current = "#";
  while (std::getline(in, line)) {
    if (line.starts_with("# ") || line.starts_with("## ")) current = line;
    out[current] += line + "\n";
  }
  return out;
}

std::vector<std::string> headings(const std::string& md) {
  std::vector<std::string> out;
  std::istringstream in(md);
  std::string line;
  bool in_details = false;
  while (std::getline(in, line)) {
    if (line == "<details>") in_details = true;
    if (line == "</details>") in_details = false;
    if (!in_details && (line.starts_with("# ") || line.starts_with("## ") || line.starts_with("### D") ||
                        line.starts_with("### V") || line.starts_with("### T")))
      out.push_back(line);
  }
  return out;
}

std::vector<std::string> fixture_lines(const std::string& name) {
  std::ifstream in(std::string(KBZ_FIXTURES_DIR) + "/report/" + name);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(ReportValidation, RealisticModule2RunHasTheTeamsSectionsInOrder) {
  const std::string md = render_validation_report(module2(), module2_run(), context());
  const auto expected = fixture_lines("expected_report_headings.txt");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(headings(md), expected) << md;
}

TEST(ReportValidation, RealisticModule2RunContentBySection) {
  const std::string md = render_validation_report(module2(), module2_run(), context());
  auto s = sections(md);
  const auto& head = s["# 📋 Rapport de Validation - Module 2 : Base OS & sécurité"];
  EXPECT_TRUE(has(head, "**Statut** : ❌ ÉCHEC")) << head;
  EXPECT_TRUE(has(
      head,
      "**Date de validation** : 27/11/2026 23:01:28 (Europe/Paris, UTC+01:00) — 2026-11-27 22:01:28 UTC"));
  EXPECT_TRUE(has(head, "**Durée totale** : 12,3 s"));
  EXPECT_TRUE(has(head, "| Inventaire | `inventory/servers.tsv` |"));
  EXPECT_TRUE(has(head, "| Version de kbz-install | 0.1.0 |"));
  EXPECT_TRUE(has(head, "| Serveurs injoignables | 1 |"));

  const auto& summary = s["## 📊 Résumé Exécutif"];
  // 18 results: 11 passed, 6 failed (unreachable host), 1 warning.
  EXPECT_TRUE(
      has(summary,
          "18 résultat(s) : ✅ 11 réussi(s), ❌ 6 échoué(s), ⚠️ 1 avertissement(s), ⏸️ 0 non "
          "exécuté(s)"))
      << summary;
  EXPECT_TRUE(has(summary, "Serveurs en échec (1) : redis-01 (injoignable)."));
  EXPECT_TRUE(has(summary, "**Taux de réussite** : 61,1 % (11/18 réussis)"));
  EXPECT_TRUE(has(summary, "aucun scénario défini pour ce module"));

  const auto& objectives = s["## 🎯 Objectifs du Module 2"];
  EXPECT_TRUE(has(objectives, "- Durcissement SSH"));
  EXPECT_TRUE(has(objectives, "- docker : `5:27.5.1-1~ubuntu.24.04~noble`"));

  const auto& components = s["## ✅ Composants Validés"];
  EXPECT_TRUE(has(components, "### 1. Docker ❌"));  // failed on the unreachable host
  EXPECT_TRUE(has(components, "### 5. Heure ❌"));
  EXPECT_TRUE(
      has(components, "**Résultat** : 2/3 réussis, 1 échoué(s), 0 avertissement(s), 0 non exécuté(s)"));

  const auto& tests = s["## 🧪 Tests Effectués"];
  EXPECT_TRUE(has(tests, "<details>"));
  EXPECT_TRUE(has(tests, "docker version --format '{{.Server.Version}}'"));
  EXPECT_TRUE(
      has(tests, "sshd -T | grep -i '^passwordauthentication'"));  // exact command, '|' kept in code block
  EXPECT_TRUE(has(tests,
                  "| 6 | NTP actif | Heure | code de sortie 0 et sortie contenant `NTP service: active` | "
                  "avertissement | 3 |"));

  const auto& results = s["## 📊 Résultats des Tests"];
  EXPECT_TRUE(has(results, "| Test | Serveurs Testés | Réussis | Échoués | Taux de Réussite |"));
  EXPECT_TRUE(has(results, "| Pare-feu UFW actif | 3 | 2 | 1 | 66,7 % | 0 | 0 |"));
  EXPECT_TRUE(has(results, "| NTP actif | 3 | 1 | 1 | 33,3 % | 1 | 0 |"));
  EXPECT_TRUE(
      has(results,
          "| db-master-01 | NTP actif | ⚠️ avertissement | `inactive` | sortie sans « NTP service: "
          "active » |"));
  EXPECT_TRUE(has(results,
                  "| redis-01 | Docker installé | ❌ échoué | — | injoignable : connect 10.0.0.123:22: "
                  "Connection refused |"));
  EXPECT_TRUE(has(results, "| Serveur | Docker |\n|---|---|\n| haproxy-01 | `27.5.1` |"));  // versions table
  EXPECT_TRUE(has(results, "| redis-01 | — |"));  // no version for the unreachable host

  const auto& attention = s["## ⚠️ Points d'Attention"];
  EXPECT_TRUE(has(attention, "- ❌ **redis-01** injoignable : connect 10.0.0.123:22: Connection refused"));
  EXPECT_TRUE(has(attention, "- ⚠️ **db-master-01** — NTP actif"));

  const auto& security = s["## 🔐 Sécurité"];
  EXPECT_TRUE(has(security, "Aucun fichier de credentials pour ce module"));

  const auto& servers = s["## 🔗 Serveurs Traités"];
  EXPECT_TRUE(has(servers, "| haproxy-01 | ✅ validé | 6 | 0 | 0 | 0 | 412 ms |"));
  EXPECT_TRUE(has(servers, "| db-master-01 | ⚠️ avertissements | 5 | 0 | 1 | 0 | 1,5 s |"));
  EXPECT_TRUE(has(servers, "| redis-01 | ❌ injoignable | 0 | 6 | 0 | 0 | 10 s |"));

  const auto& next = s["## 🚀 Prochaines Étapes"];
  EXPECT_TRUE(has(next, "`kbz-install verify --module 2`"));
  EXPECT_FALSE(has(next, "--module 3"));  // never send people to the next module on a failure

  const auto& conclusion = s["## 🎯 Conclusion"];
  EXPECT_TRUE(has(conclusion, "n'est **pas validé**"));
  EXPECT_TRUE(has(conclusion,
                  "*Rapport généré le 27/11/2026 23:02:00 (Europe/Paris, UTC+01:00) — 2026-11-27 22:02:00 "
                  "UTC par kbz-install 0.1.0*"));
}

TEST(ReportValidation, StatutLogic) {
  VerifyRun run = module2_run();
  EXPECT_EQ(report_status(run), ReportStatus::Failed);  // unreachable host

  run.unreachable.clear();
  std::erase_if(run.checks, [](const CheckResult& c) { return c.host == "redis-01"; });
  EXPECT_EQ(report_status(run), ReportStatus::ValidatedWithWarnings);

  for (auto& c : run.checks) c.status = CheckStatus::Pass;
  EXPECT_EQ(report_status(run), ReportStatus::Validated);
  EXPECT_TRUE(has(render_validation_report(module2(), run, context()), "**Statut** : ✅ VALIDÉ\n"));

  // Something the lab cannot run: never "validated" outright, said in the Statut and in Points d'Attention.
  run.checks[3].status = CheckStatus::NotTested;
  run.checks[3].detail = "non testé dans le lab : pas de paquet";
  EXPECT_EQ(report_status(run), ReportStatus::PartlyValidated);
  const auto partly = render_validation_report(module2(), run, context());
  EXPECT_TRUE(has(partly, "**Statut** : 🔬 VALIDÉ DANS LE LAB, SAUF LE NON TESTÉ\n")) << partly;
  EXPECT_TRUE(has(partly, "🔬 non testé dans le lab"));

  run.checks[3].status = CheckStatus::Fail;
  EXPECT_EQ(report_status(run), ReportStatus::Failed);

  // Nothing executed is never a validation.
  for (auto& c : run.checks) c.status = CheckStatus::Skipped;
  EXPECT_EQ(report_status(run), ReportStatus::Failed);
  run.checks.clear();
  EXPECT_EQ(report_status(run), ReportStatus::Failed);

  EXPECT_EQ(status_label(ReportStatus::ValidatedWithWarnings), "⚠️ VALIDÉ AVEC AVERTISSEMENTS");
}

TEST(ReportValidation, ValidatedRunPointsToTheNextModule) {
  VerifyRun run = module2_run();
  run.unreachable.clear();
  std::erase_if(run.checks, [](const CheckResult& c) { return c.host == "redis-01"; });
  for (auto& c : run.checks) c.status = CheckStatus::Pass;
  auto s = sections(render_validation_report(module2(), run, context()));
  EXPECT_TRUE(has(s["## 🚀 Prochaines Étapes"],
                  "Module 3 (PostgreSQL 16 HA (Patroni RAFT)) : `kbz-install plan --module 3`"));
  EXPECT_TRUE(has(s["## ⚠️ Points d'Attention"], "Aucun point d'attention"));
  EXPECT_TRUE(has(s["## 🎯 Conclusion"], "est **validé**"));
}

TEST(ReportValidation, NotRunChecksAreSaidNotRunNeverPassed) {
  VerifyRun run = module2_run();
  std::erase_if(run.checks, [](const CheckResult& c) { return c.check_id == "timezone"; });  // no host ran it
  run.checks.push_back(result("swap-off", "db-master-01", CheckStatus::Skipped, "",
                              "condition « facts.init == systemd » non remplie"));
  const std::string md = render_validation_report(module2(), run, context());
  auto s = sections(md);
  EXPECT_TRUE(has(s["## 🧪 Tests Effectués"], "| Fuseau horaire Europe/Paris | Heure |"));
  EXPECT_TRUE(has(s["## 🧪 Tests Effectués"], "⏸️ non exécuté |"));
  EXPECT_TRUE(has(s["## ⚠️ Points d'Attention"],
                  "Fuseau horaire Europe/Paris (`timezone`) : non exécuté, aucun serveur ciblé."));
  EXPECT_TRUE(has(s["## ⚠️ Points d'Attention"],
                  "non exécuté (condition « facts.init == systemd » non remplie)"));
  EXPECT_TRUE(has(s["## 🎯 Conclusion"], "ne sont pas comptées comme réussies"));
}

TEST(ReportValidation, ModuleAttentionLinesOpenThePointsDAttention) {
  Module m = module2();
  m.attention_fr = {"CVE-X non corrigée dans l'image par défaut."};
  ReportContext c;
  c.generated_utc = "2026-11-27T22:02:00Z";
  const std::string md = render_validation_report(m, module2_run(), c);
  const auto at =
      md.find("## ⚠️ Points d'Attention\n\n- ⚠️ CVE-X non corrigée dans l'image par défaut.\n");
  EXPECT_NE(at, std::string::npos) << md;
  EXPECT_EQ(md.find("Aucun point d'attention"), std::string::npos);
  auto parsed = parse_module(
      "number: 77\nid: x\ntitle: X\nattention_fr: [\"a\", \"b\"]\nsteps: [{id: s, kind: command, check: "
      "\"true\", apply: \"true\"}]\n",
      "test");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->attention_fr, (std::vector<std::string>{"a", "b"}));
}

TEST(ReportValidation, RegisteredSecretNeverAppears) {
  const std::string secret = "Zq8vN3pL0wXyT5rB";
  Secret registered(secret);
  VerifyRun run = module2_run();
  run.checks[0].value = "token=" + secret;
  run.checks[1].detail = "sortie: " + secret;
  run.unreachable[0] = "redis-01: auth failed for " + secret;
  Module m = module2();
  m.checks[1].command = "check --password " + secret;
  const std::string md = render_validation_report(m, run, context());
  EXPECT_FALSE(has(md, secret));
  EXPECT_TRUE(has(md, "token=***"));
  Masker::global().clear();
}

TEST(ReportValidation, CredentialFilesByPathAndModeOnly) {
  ReportContext ctx = context();
  ctx.credentials = {{"credentials/redis.env", "0600", {"REDIS_PASSWORD"}},
                     {"credentials/minio.env", "0644", {"MINIO_ROOT_PASSWORD"}},
                     {"credentials/postgres.env", "absent", {"POSTGRES_PASSWORD"}}};
  auto s = sections(render_validation_report(module2(), module2_run(), ctx));
  const auto& sec = s["## 🔐 Sécurité"];
  EXPECT_TRUE(has(sec, "| `credentials/redis.env` | `0600` ✅ | `REDIS_PASSWORD` |"));
  EXPECT_TRUE(has(sec, "`0644` ⚠️ (attendu `0600`)"));
  EXPECT_TRUE(has(sec, "⚠️ absent"));
}

TEST(ReportValidation, VersionDriftAndFailoverAreReported) {
  VerifyRun run = module2_run();
  run.versions_found["db-master-01"]["Docker"] = "27.4.0";
  Module m = module2();
  m.failover = {
      FailoverScenario{"redis-master-stop", "redis-sentinel-failover", "Arrêt du maître Redis", {}, ""}};
  run.failovers = {FailoverResult{
      "redis-master-stop", "Arrêt du maître Redis", CheckStatus::Pass, {{"Temps de bascule", "6,2 s"}}, ""}};
  ReportContext ctx = context();
  ctx.failover_requested = true;
  const std::string md = render_validation_report(m, run, ctx);
  EXPECT_TRUE(
      has(md, "- ⚠️ Docker : 2 versions différentes : `27.4.0` (db-master-01) ; `27.5.1` (haproxy-01)"));
  EXPECT_TRUE(has(md, "| Arrêt du maître Redis | ✅ réussi | Temps de bascule : 6,2 s | — |"));
  EXPECT_TRUE(has(md, "1 exécuté(s) sur 1 : 1 réussi(s), 0 échoué(s)"));
}

TEST(ReportValidation, FileNameHasNoLeadingZero) {
  EXPECT_EQ(validation_report_file_name(2), "RAPPORT_VALIDATION_MODULE2.md");
  EXPECT_EQ(validation_report_file_name(9), "RAPPORT_VALIDATION_MODULE9.md");
}

}  // namespace
}  // namespace kbz
