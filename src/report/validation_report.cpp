#include "kbz/report/validation_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "kbz/core/secret.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {

namespace {

using Tally = CheckTally;

std::string result_label(CheckStatus s) {
  switch (s) {
    case CheckStatus::Pass:
      return "✅ réussi";
    case CheckStatus::Fail:
      return "❌ échoué";
    case CheckStatus::Warn:
      return "⚠️ avertissement";
    case CheckStatus::Skipped:
      return "⏸️ non exécuté";
    case CheckStatus::NotTested:
      return "🔬 non testé dans le lab";
  }
  return "?";
}

std::string tally_icon(const Tally& t) {
  if (t.fail > 0) return "❌";
  if (t.warn > 0) return "⚠️";
  if (t.not_tested > 0 && t.pass == 0) return "🔬";
  if (t.total() == 0 || t.skipped == t.total()) return "⏸️";
  return "✅";
}

// "host: reason" as recorded in VerifyRun::unreachable.
std::pair<std::string, std::string> split_unreachable(const std::string& entry) {
  const size_t colon = entry.find(": ");
  if (colon == std::string::npos) return {entry, "injoignable"};
  return {entry.substr(0, colon), entry.substr(colon + 2)};
}

std::string expectation(const VerifyCheck& c) {
  std::string e = fmt::format("code de sortie {}", c.expect_exit);
  if (!c.expect_regex.empty()) e += fmt::format(" et sortie contenant {}", md_code(c.expect_regex));
  return e;
}

std::string component_of(const VerifyCheck& c) {
  return c.component.empty() ? std::string("Autres vérifications") : c.component;
}

std::string title_of(const VerifyCheck* c, const std::string& id) {
  if (c == nullptr || c->title_fr.empty()) return id;
  return c->title_fr;
}

class Renderer {
 public:
  Renderer(const Module& m, const VerifyRun& r, const ReportContext& ctx) : m_(m), r_(r), ctx_(ctx) {
    for (const auto& c : m_.checks) check_by_id_[c.id] = &c;
    for (const auto& u : r_.unreachable) unreachable_.emplace(split_unreachable(u));
    for (const auto& c : r_.checks) {
      total_.add(c.status);
      by_check_[c.check_id].add(c.status);
      by_host_[c.host].add(c.status);
    }
    for (const auto& f : r_.failovers) failover_tally_.add(f.status);
    hosts_ = r_.hosts;
    // A result for a host missing from the host list is still shown (never hidden).
    for (const auto& c : r_.checks)
      if (std::find(hosts_.begin(), hosts_.end(), c.host) == hosts_.end()) hosts_.push_back(c.host);
    for (const auto& [h, why] : unreachable_)
      if (std::find(hosts_.begin(), hosts_.end(), h) == hosts_.end()) hosts_.push_back(h);
  }

  std::string render() {
    header();
    summary();
    objectives();
    components();
    tests();
    results();
    attention();
    security();
    servers();
    next_steps();
    conclusion();
    return mask(out_);
  }

 private:
  template <class... A>
  void line(fmt::format_string<A...> f, A&&... a) {
    out_ += fmt::format(f, std::forward<A>(a)...);
    out_ += '\n';
  }
  void blank() { out_ += '\n'; }

  const VerifyCheck* check(const std::string& id) const {
    auto it = check_by_id_.find(id);
    return it == check_by_id_.end() ? nullptr : it->second;
  }
  Tally host_tally(const std::string& h) const {
    auto it = by_host_.find(h);
    return it == by_host_.end() ? Tally{} : it->second;
  }
  bool host_failed(const std::string& h) const { return unreachable_.contains(h) || host_tally(h).fail > 0; }
  std::vector<std::string> failed_hosts() const {
    std::vector<std::string> v;
    for (const auto& h : hosts_)
      if (host_failed(h)) v.push_back(h);
    return v;
  }
  int scored_total() const { return total_.total() + failover_tally_.total(); }
  int scored_pass() const { return total_.pass + failover_tally_.pass; }

  std::string failover_state() const {
    if (!ctx_.failover_requested)
      return m_.failover.empty()
                 ? "aucun scénario défini pour ce module"
                 : fmt::format("non exécutés ({} scénario(s) défini(s), option `--failover` absente)",
                               m_.failover.size());
    if (m_.failover.empty()) return "aucun scénario défini pour ce module";
    return fmt::format("{} exécuté(s) sur {} : {} réussi(s), {} échoué(s){}",
                       r_.failovers.size() - failover_tally_.not_tested, m_.failover.size(),
                       failover_tally_.pass, failover_tally_.fail,
                       failover_tally_.not_tested
                           ? fmt::format(", {} non testé(s) dans le lab", failover_tally_.not_tested)
                           : "");
  }

  void header() {
    line("# 📋 Rapport de Validation - Module {} : {}", m_.number,
         m_.title_fr.empty() ? m_.title : m_.title_fr);
    blank();
    line("**Date de validation** : {}  ", format_date_fr(r_.started_utc));
    line("**Durée totale** : {}  ", format_duration_fr(r_.duration));
    line("**Statut** : {}", status_label(report_status(r_)));
    blank();
    line("| Élément | Valeur |");
    line("|---|---|");
    line("| Commande | {} |",
         md_code(ctx_.command_line.empty() ? fmt::format("kbz-install verify --module {}", m_.number)
                                           : ctx_.command_line));
    line("| Version de kbz-install | {} |", md_cell(ctx_.version));
    if (!ctx_.archive_path.empty()) line("| Archive des journaux | {} |", md_code(ctx_.archive_path));
    line("| Inventaire | {} |", md_code(r_.inventory_path));
    line("| Serveurs ciblés | {} |", hosts_.size());
    line("| Serveurs injoignables | {} |", unreachable_.size());
    line("| Vérifications définies | {} |", m_.checks.size());
    line("| Résultats (serveur × vérification) | {} |", total_.total());
    line("| Tests de bascule | {} |", md_cell(failover_state()));
    blank();
  }

  void summary() {
    line("## 📊 Résumé Exécutif");
    blank();
    line("- Module {} ({}) vérifié sur **{} serveur(s)** de l'inventaire {}.", m_.number, m_.title_fr,
         hosts_.size(), md_code(r_.inventory_path));
    line(
        "- {} vérification(s) définie(s), {} résultat(s) : ✅ {} réussi(s), ❌ {} échoué(s), ⚠️ "
        "{} "
        "avertissement(s), "
        "⏸️ {} non exécuté(s).",
        m_.checks.size(), total_.total(), total_.pass, total_.fail, total_.warn, total_.skipped);
    if (total_.not_tested > 0)
      line(
          "- 🔬 {} résultat(s) **non testé(s) dans le lab** (le logiciel ne peut pas y tourner) : ni réussis "
          "ni "
          "comptés comme tels, voir « Points d'Attention ».",
          total_.not_tested);
    const auto failed = failed_hosts();
    if (failed.empty()) {
      line("- Serveurs en échec : aucun.");
    } else {
      std::string list;
      for (const auto& h : failed)
        list += (list.empty() ? "" : ", ") + h + (unreachable_.contains(h) ? " (injoignable)" : "");
      line("- Serveurs en échec ({}) : {}.", failed.size(), list);
    }
    line("- Tests de bascule : {}.", failover_state());
    blank();
    line("**Taux de réussite** : {} ({}/{} réussis)", format_percent_fr(scored_pass(), scored_total()),
         scored_pass(), scored_total());
    blank();
  }

  void objectives() {
    line("## 🎯 Objectifs du Module {}", m_.number);
    blank();
    if (m_.steps.empty()) line("- (aucune étape définie)");
    for (const auto& s : m_.steps)
      line("- {}", s.title_fr.empty() ? (s.title.empty() ? s.id : s.title) : s.title_fr);
    if (!m_.versions.empty()) {
      blank();
      line("Versions attendues :");
      blank();
      for (const auto& [k, v] : m_.versions) line("- {} : {}", k, md_code(v));
    }
    blank();
  }

  void components() {
    line("## ✅ Composants Validés");
    blank();
    std::vector<std::string> order;
    for (const auto& c : m_.checks)
      if (std::find(order.begin(), order.end(), component_of(c)) == order.end())
        order.push_back(component_of(c));
    if (order.empty()) line("Aucune vérification définie pour ce module.");
    int n = 0;
    for (const auto& comp : order) {
      Tally t;
      std::vector<const VerifyCheck*> checks;
      for (const auto& c : m_.checks)
        if (component_of(c) == comp) {
          checks.push_back(&c);
          auto it = by_check_.find(c.id);
          if (it != by_check_.end()) {
            t.pass += it->second.pass;
            t.fail += it->second.fail;
            t.warn += it->second.warn;
            t.skipped += it->second.skipped;
            t.not_tested += it->second.not_tested;
          }
        }
      line("### {}. {} {}", ++n, comp, tally_icon(t));
      blank();
      line("**Vérifications** :");
      for (const auto* c : checks) line("- {} ({})", title_of(c, c->id), md_code(c->id));
      line("");
      line("**Résultat** : {}/{} réussis, {} échoué(s), {} avertissement(s), {} non exécuté(s){}", t.pass,
           t.total(), t.fail, t.warn, t.skipped,
           t.not_tested ? fmt::format(", {} non testé(s) dans le lab", t.not_tested) : std::string());
      blank();
    }
  }

  void tests() {
    line("## 🧪 Tests Effectués");
    blank();
    line("Chaque serveur reçoit toutes ses vérifications en une seule exécution SSH (lecture seule).");
    blank();
    line("| # | Test | Composant | Attendu | Sévérité | Serveurs |");
    line("|---|---|---|---|---|---|");
    int n = 0;
    for (const auto& c : m_.checks) {
      auto it = by_check_.find(c.id);
      const int targeted = it == by_check_.end() ? 0 : it->second.total();
      line("| {} | {} | {} | {} | {} | {} |", ++n, md_cell(title_of(&c, c.id)), md_cell(component_of(c)),
           expectation(c), c.severity == Severity::Warning ? "avertissement" : "bloquant",
           targeted == 0 ? std::string("⏸️ non exécuté") : std::to_string(targeted));
    }
    blank();
    line("<details>");
    line("<summary>Commandes exactes des vérifications ({})</summary>", m_.checks.size());
    blank();
    for (const auto& c : m_.checks) {
      line("**{}** — {}", c.id, title_of(&c, c.id));
      if (!c.hosts.empty() || !c.when.empty())
        line("(serveurs : {}{})", c.hosts.empty() ? std::string("tous") : md_code(c.hosts),
             c.when.empty() ? std::string() : ", condition : " + md_code(c.when));
      blank();
      const std::string fence = md_fence(c.command);
      line("{}sh", fence);
      line("{}", without_final_newlines(c.command));
      line("{}", fence);
      blank();
    }
    line("</details>");
    blank();
  }

  void results() {
    line("## 📊 Résultats des Tests");
    blank();
    line("| Test | Serveurs Testés | Réussis | Échoués | Taux de Réussite | Avertissements | Non exécutés |");
    line("|---|---|---|---|---|---|---|");
    for (const auto& c : m_.checks) {
      auto it = by_check_.find(c.id);
      const Tally t = it == by_check_.end() ? Tally{} : it->second;
      line("| {} | {} | {} | {} | {} | {} | {} |", md_cell(title_of(&c, c.id)), t.total(), t.pass, t.fail,
           format_percent_fr(t.pass, t.total()), t.warn, t.skipped + t.not_tested);
    }
    line("| **Total** | {} | {} | {} | {} | {} | {} |", total_.total(), total_.pass, total_.fail,
         format_percent_fr(total_.pass, total_.total()), total_.warn, total_.skipped + total_.not_tested);
    blank();

    line("### Détail par serveur et par test");
    blank();
    line("| Serveur | Test | Résultat | Valeur mesurée | Détail |");
    line("|---|---|---|---|---|");
    for (const auto& h : hosts_) {
      bool any = false;
      for (const auto& c : r_.checks) {
        if (c.host != h) continue;
        any = true;
        line("| {} | {} | {} | {} | {} |", md_cell(h), md_cell(title_of(check(c.check_id), c.check_id)),
             result_label(c.status), c.value.empty() ? std::string("—") : md_code(c.value),
             md_cell(c.detail));
      }
      if (!any) {
        auto u = unreachable_.find(h);
        line("| {} | — | {} | — | {} |", md_cell(h),
             u != unreachable_.end() ? "❌ échoué" : "⏸️ non exécuté",
             md_cell(u != unreachable_.end() ? "injoignable : " + u->second
                                             : "aucune vérification applicable"));
      }
    }
    blank();

    if (!r_.failovers.empty() || (ctx_.failover_requested && !m_.failover.empty())) {
      line("### Tests de bascule");
      blank();
      line("| Scénario | Résultat | Mesures | Détail |");
      line("|---|---|---|---|");
      for (const auto& sc : m_.failover) {
        auto it = std::find_if(r_.failovers.begin(), r_.failovers.end(),
                               [&](const FailoverResult& f) { return f.scenario_id == sc.id; });
        if (it == r_.failovers.end()) {
          line("| {} | ⏸️ non exécuté | — | — |",
               md_cell(sc.title_fr.empty() ? sc.id : sc.title_fr));
          continue;
        }
        std::string measures;
        for (const auto& [k, v] : it->measures)
          measures += (measures.empty() ? "" : "<br>") + md_cell(k) + " : " + md_cell(v);
        line("| {} | {} | {} | {} |", md_cell(it->title_fr.empty() ? sc.title_fr : it->title_fr),
             result_label(it->status), measures.empty() ? std::string("—") : measures, md_cell(it->detail));
      }
      blank();
    }

    if (!r_.versions_found.empty()) {
      std::set<std::string> comps;
      for (const auto& [h, m] : r_.versions_found)
        for (const auto& [c, v] : m) comps.insert(c);
      line("### Versions trouvées sur les serveurs");
      blank();
      std::string head = "| Serveur |", sep = "|---|";
      for (const auto& c : comps) {
        head += " " + md_cell(c) + " |";
        sep += "---|";
      }
      line("{}", head);
      line("{}", sep);
      for (const auto& h : hosts_) {
        auto it = r_.versions_found.find(h);
        std::string row = "| " + md_cell(h) + " |";
        for (const auto& c : comps) {
          std::string v = "—";
          if (it != r_.versions_found.end()) {
            auto vit = it->second.find(c);
            if (vit != it->second.end()) v = md_code(vit->second);
          }
          row += " " + v + " |";
        }
        line("{}", row);
      }
      blank();
    }
  }

  void attention() {
    line("## ⚠️ Points d'Attention");
    blank();
    bool any = false;
    // What the module itself says stands whatever the checks found (e.g. an unfixed CVE in the pinned image).
    for (const auto& a : m_.attention_fr) {
      line("- ⚠️ {}", a);
      any = true;
    }
    for (const auto& h : hosts_) {
      auto u = unreachable_.find(h);
      if (u != unreachable_.end()) {
        line("- ❌ **{}** injoignable : {} — toutes ses vérifications sont comptées en échec.", h, u->second);
        any = true;
      }
    }
    for (const auto& c : r_.checks) {
      if (unreachable_.contains(c.host)) continue;  // already explained once per host above
      if (c.status == CheckStatus::Fail) {
        line("- ❌ **{}** — {} : {}{}", c.host, title_of(check(c.check_id), c.check_id),
             c.detail.empty() ? "échec" : c.detail,
             c.value.empty() ? std::string() : " (valeur mesurée : " + md_code(c.value) + ")");
        any = true;
      }
    }
    for (const auto& c : r_.checks) {
      if (c.status == CheckStatus::Warn) {
        line("- ⚠️ **{}** — {} : {}{}", c.host, title_of(check(c.check_id), c.check_id),
             c.detail.empty() ? "avertissement" : c.detail,
             c.value.empty() ? std::string() : " (valeur mesurée : " + md_code(c.value) + ")");
        any = true;
      }
    }
    for (const auto& c : r_.checks) {
      if (c.status == CheckStatus::Skipped) {
        line("- ⏸️ **{}** — {} : non exécuté{}", c.host, title_of(check(c.check_id), c.check_id),
             c.detail.empty() ? std::string() : " (" + c.detail + ")");
        any = true;
      }
    }
    // What the lab could not test: once per check, with its reason and how many servers it concerns.
    for (const auto& c : m_.checks) {
      const auto it = by_check_.find(c.id);
      if (it != by_check_.end() && it->second.not_tested > 0) {
        line("- 🔬 {} ({}) : **non testé dans le lab** — {} ({} serveur(s)).", title_of(&c, c.id),
             md_code(c.id), c.lab_untested, it->second.not_tested);
        any = true;
      }
    }
    for (const auto& f : r_.failovers)
      if (f.status == CheckStatus::NotTested) {
        line("- 🔬 Bascule {} : **non testé dans le lab** — {}",
             f.title_fr.empty() ? f.scenario_id : f.title_fr, f.detail);
        any = true;
      }
    for (const auto& c : m_.checks) {
      if (!by_check_.contains(c.id)) {
        line("- ⏸️ {} ({}) : non exécuté, aucun serveur ciblé.", title_of(&c, c.id), md_code(c.id));
        any = true;
      }
    }
    for (const auto& f : r_.failovers)
      if (f.status == CheckStatus::Fail || f.status == CheckStatus::Warn) {
        line("- {} Bascule {} : {}", f.status == CheckStatus::Fail ? "❌" : "⚠️",
             f.title_fr.empty() ? f.scenario_id : f.title_fr, f.detail.empty() ? "échec" : f.detail);
        any = true;
      }
    // The same component at different versions across hosts is worth a look even when every check passed.
    std::map<std::string, std::map<std::string, std::vector<std::string>>>
        seen;  // component -> version -> hosts
    for (const auto& [h, m] : r_.versions_found)
      for (const auto& [c, v] : m) seen[c][v].push_back(h);
    for (const auto& [c, versions] : seen) {
      if (versions.size() < 2) continue;
      std::string list;
      for (const auto& [v, hs] : versions) {
        std::string hl;
        for (const auto& h : hs) hl += (hl.empty() ? "" : ", ") + h;
        list += (list.empty() ? "" : " ; ") + md_code(v) + " (" + hl + ")";
      }
      line("- ⚠️ {} : {} versions différentes : {}", c, versions.size(), list);
      any = true;
    }
    if (!any)
      line("Aucun point d'attention : toutes les vérifications exécutées ont réussi sur tous les serveurs.");
    blank();
  }

  void security() {
    line("## 🔐 Sécurité");
    blank();
    if (ctx_.credentials.empty()) {
      line("- Aucun fichier de credentials pour ce module (accès par clé SSH uniquement).");
    } else {
      line("| Fichier | Mode | Clés (noms seulement) |");
      line("|---|---|---|");
      for (const auto& f : ctx_.credentials) {
        std::string keys;
        for (const auto& k : f.keys) keys += (keys.empty() ? "" : ", ") + md_code(k);
        const std::string mode = f.mode == "0600"     ? "`0600` ✅"
                                 : f.mode == "absent" ? std::string("⚠️ absent")
                                                      : md_code(f.mode) + " ⚠️ (attendu `0600`)";
        line("| {} | {} | {} |", md_code(f.path), mode, keys.empty() ? std::string("—") : keys);
      }
    }
    line(
        "- Aucune valeur secrète n'apparaît dans ce rapport : tout le texte passe par le masquage de "
        "kbz-install.");
    line("- Les vérifications sont en lecture seule ; aucun secret n'est passé en ligne de commande.");
    blank();
  }

  void servers() {
    line("## 🔗 Serveurs Traités");
    blank();
    line("| Serveur | État | Réussis | Échoués | Avertissements | Non exécutés | Durée |");
    line("|---|---|---|---|---|---|---|");
    for (const auto& h : hosts_) {
      const Tally t = host_tally(h);
      auto u = unreachable_.find(h);
      const std::string state = u != unreachable_.end() ? "❌ injoignable"
                                : t.fail > 0            ? "❌ échec"
                                : t.warn > 0            ? "⚠️ avertissements"
                                : t.total() == 0        ? "⏸️ non vérifié"
                                                        : "✅ validé";
      auto d = r_.host_durations.find(h);
      line("| {} | {} | {} | {} | {} | {} | {} |", md_cell(h), state, t.pass, t.fail, t.warn, t.skipped,
           d == r_.host_durations.end() ? std::string("—") : format_duration_fr(d->second));
    }
    blank();
  }

  void next_steps() {
    line("## 🚀 Prochaines Étapes");
    blank();
    const ReportStatus st = report_status(r_);
    int n = 0;
    if (st == ReportStatus::Failed) {
      line("{}. Corriger les échecs listés dans « Points d'Attention » (serveurs injoignables d'abord).",
           ++n);
      line("{}. Réappliquer si besoin : `kbz-install apply --module {}`.", ++n, m_.number);
      line("{}. Relancer la validation : `kbz-install verify --module {}`.", ++n, m_.number);
    } else {
      if (st == ReportStatus::ValidatedWithWarnings)
        line("{}. Examiner les avertissements listés dans « Points d'Attention ».", ++n);
      if (ctx_.next_module > 0) {
        line("{}. Module {} ({}) : `kbz-install plan --module {}` puis `kbz-install apply --module {}`.", ++n,
             ctx_.next_module, ctx_.next_module_title, ctx_.next_module, ctx_.next_module);
        line("{}. Valider : `kbz-install verify --module {}`.", ++n, ctx_.next_module);
      } else {
        line("{}. Dernier module de l'installation : aucun module suivant.", ++n);
      }
    }
    line("{}. Mettre à jour le suivi : `kbz-install status` (SUIVI_INSTALLATION_V2.md).", ++n);
    blank();
  }

  void conclusion() {
    line("## 🎯 Conclusion");
    blank();
    switch (report_status(r_)) {
      case ReportStatus::Validated:
        line(
            "Le module {} ({}) est **validé** : {} vérification(s) réussie(s) sur {} serveur(s), aucun "
            "échec.",
            m_.number, m_.title_fr, total_.pass, hosts_.size());
        break;
      case ReportStatus::ValidatedWithWarnings:
        line(
            "Le module {} ({}) est **validé avec avertissements** : aucun échec, {} avertissement(s) à "
            "examiner.",
            m_.number, m_.title_fr, total_.warn);
        break;
      case ReportStatus::PartlyValidated:
        line(
            "Le module {} ({}) est **validé pour ce qui a pu être testé** : aucun échec, mais {} résultat(s) "
            "non testé(s) dans le lab (voir « Points d'Attention ») restent à prouver sur les serveurs "
            "réels.",
            m_.number, m_.title_fr, total_.not_tested + failover_tally_.not_tested);
        break;
      case ReportStatus::Failed:
        line(
            "Le module {} ({}) n'est **pas validé** : {} vérification(s) en échec, {} serveur(s) en échec "
            "dont {} "
            "injoignable(s). Ne pas passer au module suivant avant correction.",
            m_.number, m_.title_fr, total_.fail + failover_tally_.fail, failed_hosts().size(),
            unreachable_.size());
        break;
    }
    if (total_.skipped > 0) line("");
    if (total_.skipped > 0)
      line("{} vérification(s) n'ont pas été exécutées et ne sont pas comptées comme réussies.",
           total_.skipped);
    blank();
    line("---");
    blank();
    line("*Rapport généré le {} par kbz-install {}*", format_date_fr(ctx_.generated_utc), ctx_.version);
  }

  const Module& m_;
  const VerifyRun& r_;
  const ReportContext& ctx_;
  std::map<std::string, const VerifyCheck*> check_by_id_;
  std::map<std::string, std::string> unreachable_;
  std::map<std::string, Tally> by_check_, by_host_;
  Tally total_, failover_tally_;
  std::vector<std::string> hosts_;
  std::string out_;
};

}  // namespace

ReportStatus report_status(const VerifyRun& run) {
  if (!run.ok()) return ReportStatus::Failed;
  // Nothing actually checked is not a validation: never claim more than was run.
  const bool ran_something = std::any_of(run.checks.begin(), run.checks.end(), [](const CheckResult& c) {
    return c.status != CheckStatus::Skipped;
  });
  if (!ran_something) return ReportStatus::Failed;
  const bool not_tested =
      std::any_of(run.checks.begin(), run.checks.end(),
                  [](const CheckResult& c) { return c.status == CheckStatus::NotTested; }) ||
      std::any_of(run.failovers.begin(), run.failovers.end(),
                  [](const FailoverResult& f) { return f.status == CheckStatus::NotTested; });
  if (not_tested) return ReportStatus::PartlyValidated;
  const bool warned = std::any_of(run.checks.begin(), run.checks.end(),
                                  [](const CheckResult& c) { return c.status == CheckStatus::Warn; }) ||
                      std::any_of(run.failovers.begin(), run.failovers.end(),
                                  [](const FailoverResult& f) { return f.status == CheckStatus::Warn; });
  return warned ? ReportStatus::ValidatedWithWarnings : ReportStatus::Validated;
}

std::string status_label(ReportStatus status) {
  switch (status) {
    case ReportStatus::Validated:
      return "✅ VALIDÉ";
    case ReportStatus::ValidatedWithWarnings:
      return "⚠️ VALIDÉ AVEC AVERTISSEMENTS";
    case ReportStatus::PartlyValidated:
      return "🔬 VALIDÉ DANS LE LAB, SAUF LE NON TESTÉ";
    case ReportStatus::Failed:
      return "❌ ÉCHEC";
  }
  return "?";
}

std::string validation_report_file_name(int module) {
  return fmt::format("RAPPORT_VALIDATION_MODULE{}.md", module);
}

std::string render_validation_report(const Module& module, const VerifyRun& run,
                                     const ReportContext& context) {
  return Renderer(module, run, context).render();
}

}  // namespace kbz
