// kbz-install docs [--check] [--dir docs]: regenerates the generated block of every module's doc; --check
// changes nothing and fails (exit 1) naming each out-of-date file and each doc that lacks one of the
// seed's sections (kDocSections), for CI. Writing only warns about missing sections: they are people's work.
#include <fmt/format.h>

#include <iostream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/report/docs_gen.hpp"
#include "kbz/report/example_config.hpp"

namespace kbz {

int cmd_docs(const GlobalOptions& g, DocsMode mode, const std::string& docs_dir,
             const std::string& example_path) {
  const bool check = mode == DocsMode::Check;
  auto modules = load_all_modules(module_source_of(g));
  if (!modules) {
    std::cerr << "kbz-install docs: " << mask(modules.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  // Docs describe the defaults (docs/SETTINGS.md); a team's kbz.yaml must not make them drift.
  if (auto defaults = parse_settings("", "(defaults)"))
    for (auto& m : *modules) render_versions(m, defaults->raw);
  std::vector<DocUpdate> updates;
  bool bad = false;
  for (const auto& m : *modules) {
    auto u = plan_doc_update(m, docs_dir);
    if (!u) {  // every bad doc is named, not just the first; nothing is written then
      std::cerr << "kbz-install docs: " << mask(u.error().message) << '\n';
      bad = true;
      continue;
    }
    updates.push_back(std::move(*u));
  }
  // The example kbz.yaml follows the modules too (their images and settings), and must parse to the defaults.
  if (!example_path.empty()) {
    auto u = plan_example_update(*modules, example_path);
    if (!u) {
      std::cerr << "kbz-install docs: " << mask(u.error().message) << '\n';
      bad = true;
    } else {
      updates.push_back(std::move(*u));
    }
  }
  if (bad) return static_cast<int>(ExitCode::BadInput);
  int stale = 0;
  int incomplete = 0;
  for (const auto& u : updates) {
    if (auto missing = u.path == example_path ? std::vector<std::string>{} : missing_doc_sections(u.content);
        !missing.empty()) {
      ++incomplete;
      std::string list;
      for (const auto& s : missing) list += (list.empty() ? "" : ", ") + fmt::format("« ## {} »", s);
      std::cerr << fmt::format("{}: {}: section(s) missing or not written yet: {}\n",
                               check ? "incomplete" : "warning", u.path, list);
    }
    if (u.change == DocChange::Unchanged) {
      if (!check) std::cout << fmt::format("à jour : {}\n", u.path);
      continue;
    }
    ++stale;
    const char* what = u.change == DocChange::Created ? "absent" : "partie générée différente";
    if (check) {
      std::cerr << fmt::format("out of date: {} ({})\n", u.path, what);
      continue;
    }
    if (auto w = write_file_atomic(u.path, u.content); !w) {
      std::cerr << "kbz-install docs: " << mask(w.error().message) << '\n';
      return static_cast<int>(ExitCode::HostFailure);
    }
    std::cout << fmt::format("{} : {}\n", u.change == DocChange::Created ? "créé" : "mis à jour", u.path);
  }
  if (check && stale > 0)
    std::cerr << fmt::format("kbz-install docs --check: {} doc(s) out of date; run `kbz-install docs`\n",
                             stale);
  if (check && incomplete > 0)
    std::cerr << fmt::format("kbz-install docs --check: {} doc(s) lack a section the seed asks for\n",
                             incomplete);
  if (check && (stale > 0 || incomplete > 0)) return static_cast<int>(ExitCode::HostFailure);
  return 0;
}

}  // namespace kbz
