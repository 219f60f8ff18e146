#include "kbz/report/suivi.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kbz/core/secret.hpp"
#include "kbz/report/module_titles.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {

namespace {

constexpr size_t kMaxProblemsPerRun = 15;

// Index of the module's last record of `kind` (records are appended in run order), -1 if none.
int last_of(const std::vector<RunRecord>& runs, int module, std::string_view kind) {
  for (int i = static_cast<int>(runs.size()) - 1; i >= 0; --i)
    if (runs[i].module == module && runs[i].kind == kind) return i;
  return -1;
}

std::string title_for(const SuiviContext& ctx, int module) {
  auto it = ctx.titles.find(module);
  return it != ctx.titles.end() && !it->second.empty() ? it->second : builtin_module_title(module);
}

std::string run_cell(const std::vector<RunRecord>& runs, int index) {
  if (index < 0) return "—";
  const RunRecord& r = runs[index];
  const std::string icon = r.status == "ok" ? "✅" : r.status == "interrupted" ? "⏸️ interrompu" : "❌";
  return fmt::format("{} {}", icon, format_date_short_fr(r.started_utc));
}

std::string duration_cell(const std::vector<RunRecord>& runs, int index) {
  return index < 0 ? std::string("—") : format_duration_fr(Millis(runs[index].duration_ms));
}

std::string state_text(ModuleState s) {
  switch (s) {
    case ModuleState::NotDone:
      return "non commencé";
    case ModuleState::Applied:
      return "appliqué, non vérifié";
    case ModuleState::Done:
      return "appliqué et vérifié";
    case ModuleState::Failed:
      return "dernière exécution en échec";
  }
  return "?";
}

}  // namespace

ModuleState module_state(const std::vector<RunRecord>& runs, int module) {
  const int apply = last_of(runs, module, "apply");
  const int verify = last_of(runs, module, "verify");
  const int last = std::max(apply, verify);
  if (last < 0) return ModuleState::NotDone;
  if (runs[last].status != "ok") return ModuleState::Failed;
  if (apply < 0) return ModuleState::NotDone;  // verified, but nothing applied by kbz-install
  // A re-apply after the last verify may have changed hosts: it must be verified again.
  if (verify > apply) return ModuleState::Done;
  return ModuleState::Applied;
}

std::string state_icon(ModuleState state) {
  switch (state) {
    case ModuleState::NotDone:
      return "⏳";
    case ModuleState::Applied:
      return "🔄";
    case ModuleState::Done:
      return "✅";
    case ModuleState::Failed:
      return "❌";
  }
  return "?";
}

int next_module(const std::vector<RunRecord>& runs, const std::set<int>& available) {
  for (int m = kFirstModule; m <= kLastModule; ++m)
    if (module_state(runs, m) != ModuleState::Done && (available.empty() || available.contains(m))) return m;
  return 0;
}

std::string next_command(const std::vector<RunRecord>& runs, int module, const std::string& prefix) {
  switch (module_state(runs, module)) {
    case ModuleState::NotDone:
      return fmt::format("{0} plan --module {1}\n{0} apply --module {1}\n{0} verify --module {1}", prefix,
                         module);
    case ModuleState::Applied:
      return fmt::format("{} verify --module {}", prefix, module);
    case ModuleState::Failed: {
      const int apply = last_of(runs, module, "apply");
      const int verify = last_of(runs, module, "verify");
      if (apply > verify || apply < 0)
        return fmt::format("{0} apply --module {1}\n{0} verify --module {1}", prefix, module);
      return fmt::format("{} verify --module {}", prefix, module);
    }
    case ModuleState::Done:
      break;
  }
  return {};
}

std::string render_suivi(const std::vector<RunRecord>& runs, const SuiviContext& ctx) {
  std::string o;
  auto line = [&o](const std::string& s) { o += s + '\n'; };
  line("# 📋 Suivi d'Installation KeyBuzz V2");
  line("");
  line(fmt::format("**Mis à jour le** : {}  ", format_date_fr(ctx.generated_utc)));
  line(fmt::format(
      "**Généré par** : kbz-install {} à partir de `.kbz/state.json` ({} exécution(s) enregistrée(s))",
      ctx.version, runs.size()));
  line("");
  line("## 📊 Avancement");
  line("");
  line(
      "| Module | Titre | État | Dernier apply | Durée apply | Dernière vérification | Durée vérification | "
      "Serveurs | Rapport |");
  line("|---|---|---|---|---|---|---|---|---|");
  int done = 0;
  for (int m = kFirstModule; m <= kLastModule; ++m) {
    const ModuleState st = module_state(runs, m);
    if (st == ModuleState::Done) ++done;
    const int apply = last_of(runs, m, "apply");
    const int verify = last_of(runs, m, "verify");
    const int last = std::max(apply, verify);
    std::string hosts = "—";
    if (last >= 0) {
      const RunRecord& r = runs[last];
      hosts = r.hosts_failed > 0 ? fmt::format("{} ({} en échec)", r.hosts, r.hosts_failed)
                                 : std::to_string(r.hosts);
    }
    std::string report = "—";
    if (verify >= 0 && !runs[verify].report_path.empty())
      report = fmt::format("[{}]({})", md_cell(runs[verify].report_path), runs[verify].report_path);
    line(fmt::format("| {} | {} | {} {} | {} | {} | {} | {} | {} | {} |", m, md_cell(title_for(ctx, m)),
                     state_icon(st), state_text(st), run_cell(runs, apply), duration_cell(runs, apply),
                     run_cell(runs, verify), duration_cell(runs, verify), hosts, report));
  }
  line("");
  line(fmt::format("**Progression** : {}/{} modules appliqués et vérifiés ({})", done,
                   kLastModule - kFirstModule + 1, format_percent_fr(done, kLastModule - kFirstModule + 1)));
  line("");
  line(
      "Légende : ⏳ non commencé · 🔄 appliqué, non vérifié · ✅ dernier apply et dernière vérification réussis "
      "· "
      "❌ dernière exécution en échec");
  line("");

  line("## ⚠️ Problèmes Rencontrés");
  line("");
  bool any = false;
  for (int m = kFirstModule; m <= kLastModule; ++m) {
    std::vector<int> idx;
    for (const char* kind : {"apply", "verify"}) {
      const int i = last_of(runs, m, kind);
      if (i >= 0 && (runs[i].status != "ok" || !runs[i].problems.empty())) idx.push_back(i);
    }
    if (idx.empty()) continue;
    any = true;
    line(fmt::format("### Module {} : {}", m, title_for(ctx, m)));
    line("");
    for (int i : idx) {
      const RunRecord& r = runs[i];
      std::string counts;
      if (r.kind == "verify")
        counts = fmt::format(" — {} vérification(s) en échec, {} avertissement(s), {} serveur(s) en échec",
                             r.checks_failed, r.checks_warned, r.hosts_failed);
      else
        counts =
            fmt::format(" — {} étape(s) en échec, {} serveur(s) en échec", r.failed_steps, r.hosts_failed);
      line(fmt::format("- **{}** du {} ({}){} :", r.kind, format_date_short_fr(r.started_utc),
                       r.status == "ok"            ? "réussi"
                       : r.status == "interrupted" ? "interrompu"
                                                   : "en échec",
                       counts));
      size_t n = 0;
      for (const auto& p : r.problems) {
        if (++n > kMaxProblemsPerRun) {
          line(fmt::format("  - … et {} autre(s) (voir le rapport ou les logs)",
                           r.problems.size() - kMaxProblemsPerRun));
          break;
        }
        line("  - " + md_cell(p));
      }
      if (r.problems.empty()) line("  - (aucun détail enregistré)");
    }
    line("");
  }
  if (!any) {
    line("Aucun problème enregistré dans les dernières exécutions.");
    line("");
  }

  line("## 🚀 Prochaine Étape");
  line("");
  const int next = next_module(runs, ctx.available);
  // Modules not built into this version yet: say so rather than send the reader to a command that fails.
  std::vector<std::string> missing;
  for (int m = kFirstModule; m <= kLastModule; ++m)
    if (!ctx.available.empty() && !ctx.available.contains(m) && module_state(runs, m) != ModuleState::Done)
      missing.push_back(std::to_string(m));
  if (next == 0 && missing.empty()) {
    line("Tous les modules (2 à 9) sont appliqués et vérifiés.");
  } else if (next == 0) {
    line("Tous les modules disponibles dans cette version sont appliqués et vérifiés.");
  } else {
    const ModuleState st = module_state(runs, next);
    line(fmt::format("Module {} ({}) — {} {} :", next, title_for(ctx, next), state_icon(st), state_text(st)));
    line("");
    line("```sh");
    line(next_command(runs, next, ctx.command_prefix));
    line("```");
  }
  if (!missing.empty()) {
    line("");
    line(fmt::format("Pas encore disponibles dans kbz-install {} : module(s) {}.", ctx.version,
                     fmt::join(missing, ", ")));
  }
  line("");
  line("---");
  line("");
  line(
      fmt::format("*Suivi généré le {} par kbz-install {}*", format_date_fr(ctx.generated_utc), ctx.version));
  return mask(o);
}

}  // namespace kbz
