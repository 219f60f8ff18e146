#include "kbz/report/docs_gen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace fs = std::filesystem;

namespace {

// "modules/02-base-os/module.yaml" whether the module came from the embedded copy or --modules-dir, so the
// generated text does not depend on how the command was run.
std::string module_source(const Module& m) {
  std::string dir = m.source_dir;
  if (dir.starts_with("embedded:")) dir = dir.substr(9);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  const std::string name = fs::path(dir).filename().string();
  return name.empty() ? fmt::format("module {}", m.number) : fmt::format("modules/{}/module.yaml", name);
}

std::string join_code(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + md_code(x);
  return s.empty() ? "—" : s;
}

std::string find_line(const std::string& text, size_t pos) {
  return std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

}  // namespace

std::string render_generated_block(const Module& m) {
  std::string o;
  auto line = [&o](const std::string& s) { o += s + '\n'; };
  line(std::string(kGeneratedBegin));
  line(fmt::format("<!-- Partie générée par `kbz-install docs` depuis {} : ne pas la modifier à la main. -->",
                   module_source(m)));
  line("");
  line(fmt::format("## Référence du module {} : {}", m.number, m.title_fr));
  line("");
  line("| Élément | Valeur |");
  line("|---|---|");
  line(fmt::format("| Identifiant | {} |", md_code(m.id)));
  line(fmt::format("| Titre (console) | {} |", md_cell(m.title)));
  line(fmt::format("| Serveurs ciblés | {} |",
                   m.targets.empty() || m.targets == "all"
                       ? std::string("tous les serveurs cibles de l'inventaire (`all`)")
                       : md_code(m.targets)));
  line(fmt::format("| Définition | {} |", md_code(module_source(m))));
  line(
      fmt::format("| Commandes | `kbz-install plan --module {0}`, `kbz-install apply --module {0}`, "
                  "`kbz-install verify --module {0}` |",
                  m.number));
  line("");

  line("### Versions");
  line("");
  if (m.versions.empty()) {
    line("Aucune version épinglée par ce module.");
  } else {
    line("| Composant | Version |");
    line("|---|---|");
    for (const auto& [k, v] : m.versions) line(fmt::format("| {} | {} |", md_cell(k), md_code(v)));
  }
  line("");

  line(fmt::format("### Étapes ({})", m.steps.size()));
  line("");
  line(
      "Exécutées dans l'ordre sur chaque serveur, les serveurs en parallèle ; chaque étape est d'abord "
      "vérifiée en lecture seule et n'est appliquée que si nécessaire.");
  line("");
  line("| # | Id | Type | Ce qu'elle fait | Détail | Serveurs | Condition |");
  line("|---|---|---|---|---|---|---|");
  int n = 0;
  for (const auto& s : m.steps)
    line(fmt::format("| {} | {} | {} | {} | {} | {} | {} |", ++n, md_code(s.id), s.kind_name(),
                     md_cell(s.title_fr.empty() ? s.title : s.title_fr), s.kind->describe_fr(s, m),
                     s.hosts.empty() ? std::string("tous") : md_code(s.hosts),
                     s.when.empty() ? std::string("—") : md_code(s.when)));
  line("");
  bool any_command = false;
  for (const auto& s : m.steps) any_command |= !s.kind->doc_commands(s).empty();
  if (any_command) {
    line("<details>");
    line("<summary>Commandes des étapes (vérification / application)</summary>");
    line("");
    for (const auto& s : m.steps) {
      const auto commands = s.kind->doc_commands(s);
      if (commands.empty()) continue;
      line(fmt::format("**{}**", s.id));
      line("");
      for (const auto& [label, cmd] : commands) {
        if (cmd.empty()) continue;
        const std::string fence = md_fence(cmd);
        line(fmt::format("{} :", label));
        line("");
        line(fence + "sh");
        line(without_final_newlines(cmd));
        line(fence);
        line("");
      }
    }
    line("</details>");
    line("");
  }

  line("### Fichiers écrits");
  line("");
  bool files = false;
  for (const auto& s : m.steps) files |= s.kind->doc_file(s).has_value();
  if (!files) {
    line("Aucun fichier écrit par ce module.");
  } else {
    line("| Chemin | Mode | Propriétaire | Étape | Modèle |");
    line("|---|---|---|---|---|");
    for (const auto& s : m.steps)
      if (const auto f = s.kind->doc_file(s))
        line(fmt::format("| {} | {} | {} | {} | {} |", md_code(f->path), md_code(f->mode), md_code(f->owner),
                         md_code(s.id), f->source));
  }
  line("");

  if (!m.handlers.empty()) {
    line("### Actions de fin (handlers)");
    line("");
    line("| Id | Validation préalable | Commande | Reconnexion SSH |");
    line("|---|---|---|---|");
    for (const auto& h : m.handlers)
      line(fmt::format("| {} | {} | {} | {} |", md_code(h.id),
                       h.validate.empty() ? std::string("—") : md_code(h.validate), md_code(h.command),
                       h.reconnect ? "oui (nouvelle session prouvée)" : "non"));
    line("");
  }

  if (!m.converge.empty()) {
    line("### Convergence (fin de `apply`)");
    line("");
    line(
        "Une fois tous les serveurs passés par leurs étapes, `apply` attend que le cluster soit dans l'état "
        "que "
        "`verify` accepte : chaque vérification ci-dessous est relancée chaque seconde sur ses serveurs, "
        "jusqu'à son "
        "délai. Si elles passaient déjà et que rien n'a changé, aucune commande de plus n'est envoyée.");
    line("");
    line("| Id | Ce qui est attendu | Serveurs | Délai |");
    line("|---|---|---|---|");
    for (const auto& c : m.converge)
      line(fmt::format("| {} | {} | {} | {} s |", md_code(c.id), md_cell(c.title_fr),
                       c.hosts.empty() ? std::string("tous") : md_code(c.hosts), c.timeout_s));
    line("");
    line("<details>");
    line("<summary>Commandes de convergence</summary>");
    line("");
    for (const auto& c : m.converge) {
      const std::string fence = md_fence(c.check);
      line(fmt::format("**{}**", c.id));
      line("");
      line(fence + "sh");
      line(without_final_newlines(c.check));
      line(fence);
      line("");
    }
    line("</details>");
    line("");
  }

  if (!m.settings.empty()) {
    line("### Réglages (`kbz.yaml`)");
    line("");
    line(
        "Clés propres à ce module, facultatives dans `kbz.yaml` ; une clé inconnue ou une valeur hors règle "
        "est "
        "refusée avec le fichier, la ligne et la colonne.");
    line("");
    line("| Clé | Type | Défaut | Règle | Rôle |");
    line("|---|---|---|---|---|");
    for (const auto& st : m.settings) {
      std::string rule = st.pattern.empty() ? std::string("—") : md_code(st.pattern);
      if (st.type == SettingType::Integer && (st.min != 0 || st.max != 0))
        rule = fmt::format("{} à {}", st.min, st.max);
      std::string def;
      for (const auto& v : st.default_value) def += (def.empty() ? "" : ", ") + v;
      line(fmt::format("| {} | {} | {} | {} | {} |", md_code(st.key), setting_type_name(st.type),
                       def.empty() ? std::string("—") : md_code(def), rule, md_cell(st.doc_fr)));
    }
    line("");
  }

  line("### Ports");
  line("");
  if (m.ports.empty()) line("Aucun port ouvert par ce module.");
  for (const auto& p : m.ports) line("- " + p);
  line("");

  line(fmt::format("### Vérifications (`kbz-install verify --module {}`)", m.number));
  line("");
  if (m.checks.empty()) line("Aucune vérification définie.");
  for (const auto& c : m.checks) {
    line(fmt::format("#### {} — {}", md_code(c.id), c.title_fr.empty() ? c.id : c.title_fr));
    line("");
    if (!c.component.empty()) line("- Composant : " + c.component);
    line("- Serveurs : " + (c.hosts.empty() ? std::string("tous ceux du module") : md_code(c.hosts)));
    if (!c.when.empty()) line("- Condition : " + md_code(c.when));
    std::string expect = fmt::format("code de sortie {}", c.expect_exit);
    if (!c.expect_regex.empty()) expect += " et sortie contenant " + md_code(c.expect_regex);
    line("- Attendu : " + expect);
    line("- Valeur mesurée : " + (c.value_regex.empty() ? std::string("première ligne non vide de la sortie")
                                                        : "première capture de " + md_code(c.value_regex)));
    line(std::string("- Sévérité : ") +
         (c.severity == Severity::Warning ? "avertissement (non bloquant)" : "bloquant"));
    line("");
    const std::string fence = md_fence(c.command);
    line(fence + "sh");
    line(without_final_newlines(c.command));
    line(fence);
    line("");
  }

  line("### Scénarios de bascule (`--failover`)");
  line("");
  if (m.failover.empty()) {
    line("Aucun scénario de bascule pour ce module.");
  } else {
    line("| Id | Type | Scénario | Paramètres |");
    line("|---|---|---|---|");
    for (const auto& f : m.failover) {
      std::string params;
      for (const auto& [k, v] : f.params) params += (params.empty() ? "" : ", ") + md_code(k + "=" + v);
      line(fmt::format("| {} | {} | {} | {} |", md_code(f.id), md_code(f.kind), md_cell(f.title_fr),
                       params.empty() ? std::string("—") : params));
    }
  }
  line("");

  line("### Credentials");
  line("");
  if (m.credentials.empty()) {
    line("Aucun secret pour ce module.");
  } else {
    line(
        "Générés par `kbz-install credentials init` dans `credentials/`, mode `0600`, jamais écrasés ni "
        "affichés "
        "(noms seulement, jamais de valeur).");
    line("");
    line("| Fichier | Clé | Longueur | Caractères |");
    line("|---|---|---|---|");
    for (const auto& c : m.credentials) {
      // Derived and generated-key values are not strings of random characters: say what they are.
      const std::string what = c.derive.empty() ? ""
                               : c.from.empty() ? "clé privée " + c.derive + " (PEM en base64)"
                                                : "dérivé (" + c.derive + ") de " + c.from;
      if (what.empty())
        line(fmt::format("| {} | {} | {} | {} |", md_code("credentials/" + c.file + ".env"),
                         c.for_each.empty() ? md_code(c.key)
                                            : md_code(c.key + "_<NOM>") + " (une par élément de " +
                                                  md_code(c.for_each) + ")",
                         c.length, md_cell(c.charset)));
      else
        line(fmt::format("| {} | {} | — | {} |", md_code("credentials/" + c.file + ".env"), md_code(c.key),
                         md_cell(what)));
    }
  }
  line("");
  line(std::string(kGeneratedEnd));
  // Masked like everything user-visible: a module must never carry a secret, and if one does it stays hidden.
  return mask(o);
}

constexpr std::string_view kPlaceholder = "_À compléter";

std::string doc_skeleton(const Module& m, const std::string& block) {
  std::string o;
  o += fmt::format("# Module {} — {}\n\n", m.number, m.title_fr);
  o += "<!-- Hors des marqueurs « GENERATED », ce document est écrit à la main : `kbz-install docs` le "
       "conserve tel quel. -->\n\n";
  // Every section starts as a placeholder, which `docs --check` refuses until someone writes it.
  for (auto name : kDocSections) o += fmt::format("## {}\n\n{} ._\n\n", name, kPlaceholder);
  o += block;
  return o;
}

std::vector<std::string> missing_doc_sections(const std::string& doc) {
  // The generated block is the module's facts, not the people's sections: look only outside it.
  std::string text = doc;
  const size_t b = text.find(kGeneratedBegin);
  const size_t e = text.find(kGeneratedEnd);
  if (b != std::string::npos && e != std::string::npos && b < e) text.erase(b, e + kGeneratedEnd.size() - b);
  const auto lines = lines_of(text);
  std::vector<std::string> missing;
  for (auto name : kDocSections) {
    const std::string heading = fmt::format("## {}", name);
    bool written = false;
    for (size_t i = 0; i < lines.size() && !written; ++i) {
      const auto& l = lines[i];
      if (!l.starts_with(heading)) continue;
      if (l.size() > heading.size() && l[heading.size()] != ' ') continue;  // "## Versionsx" is another
      for (size_t j = i + 1; j < lines.size() && !lines[j].starts_with("## "); ++j) {
        const std::string_view body = trim(lines[j]);
        // A sub-heading alone is no text.
        if (!body.empty() && !body.starts_with(kPlaceholder) && !body.starts_with("#")) written = true;
      }
    }
    if (!written) missing.emplace_back(name);
  }
  return missing;
}

Result<std::string> merge_generated(const std::string& existing, const std::string& block,
                                    const std::string& origin, std::string_view begin, std::string_view end) {
  const size_t b = existing.find(begin);
  const size_t e = existing.find(end);
  if (b == std::string::npos && e == std::string::npos) {
    std::string out = existing;
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (!out.empty()) out += '\n';
    return out + block;
  }
  if (b == std::string::npos)
    return fail(ErrorKind::Input,
                fmt::format("{}:{}: END GENERATED marker without BEGIN", origin, find_line(existing, e)));
  if (e == std::string::npos)
    return fail(ErrorKind::Input,
                fmt::format("{}:{}: BEGIN GENERATED marker without END", origin, find_line(existing, b)));
  if (e < b)
    return fail(ErrorKind::Input,
                fmt::format("{}:{}: END GENERATED marker before BEGIN", origin, find_line(existing, e)));
  const size_t b2 = existing.find(begin, b + 1);
  if (b2 != std::string::npos)
    return fail(ErrorKind::Input,
                fmt::format("{}:{}: second BEGIN GENERATED marker", origin, find_line(existing, b2)));
  const size_t e2 = existing.find(end, e + 1);
  if (e2 != std::string::npos)
    return fail(ErrorKind::Input,
                fmt::format("{}:{}: second END GENERATED marker", origin, find_line(existing, e2)));
  // Replace from BEGIN through END only; the newline (and everything) after END is the hand-written side's.
  const std::string tail = existing.substr(e + end.size());
  std::string blk = block;
  if (!blk.empty() && blk.back() == '\n') blk.pop_back();
  return existing.substr(0, b) + blk + tail;
}

Result<DocUpdate> plan_doc_update(const Module& m, const std::string& docs_dir) {
  if (m.doc.empty()) return fail(ErrorKind::Input, fmt::format("module {}: no `doc:` file name", m.number));
  DocUpdate u;
  u.path = (fs::path(docs_dir) / m.doc).string();
  const std::string block = render_generated_block(m);
  std::error_code ec;
  if (!fs::exists(u.path, ec)) {
    u.change = DocChange::Created;
    u.content = doc_skeleton(m, block);
    return u;
  }
  auto existing = read_text_file(u.path);
  if (!existing) return std::unexpected(existing.error());
  auto merged = merge_generated(*existing, block, u.path);
  if (!merged) return std::unexpected(merged.error());
  u.content = std::move(*merged);
  u.change = u.content == *existing ? DocChange::Unchanged : DocChange::Updated;
  return u;
}

}  // namespace kbz
