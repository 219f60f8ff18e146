// kbz-install verify [--module N] [--failover]: runs the module's checks on the real hosts (one exec per
// host, hosts in parallel) and writes reports/RAPPORT_VALIDATION_MODULE<N>.md in French.
#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/report/module_titles.hpp"
#include "kbz/report/run_state.hpp"
#include "kbz/report/text_format.hpp"
#include "kbz/report/validation_report.hpp"
#include "kbz/run/run.hpp"
#include "kbz/verify/check_eval.hpp"
#include "kbz/verify/runner.hpp"
#include "verify_json.hpp"

namespace kbz {
namespace fs = std::filesystem;

namespace {

constexpr int kBadInput = static_cast<int>(ExitCode::BadInput);

int bad_input(const std::string& message) {
  std::cerr << "kbz-install verify: " << mask(message) << '\n';
  return kBadInput;
}

// Without --module: every module with a successful apply recorded, in module order.
Result<std::vector<int>> modules_to_verify(const GlobalOptions& g, std::optional<int> module) {
  if (module) return std::vector<int>{*module};
  auto runs = load_runs(g.workdir);
  if (!runs) return std::unexpected(runs.error());
  std::vector<int> out;
  for (int m = kFirstModule; m <= kLastModule; ++m)
    for (const auto& r : *runs)
      if (r.module == m && r.kind == "apply" && r.status == "ok") {
        out.push_back(m);
        break;
      }
  if (out.empty())
    return fail(
        ErrorKind::Usage,
        fmt::format("no successful apply recorded in {}/.kbz/state.json: name a module with --module N",
                    g.workdir));
  return out;
}

void print_host_lines(std::ostream& out, const VerifyRun& run) {
  for (const auto& h : run.hosts) {
    const CheckTally t = run.tally_for_host(h);
    auto u = std::find_if(run.unreachable.begin(), run.unreachable.end(),
                          [&](const std::string& s) { return s.starts_with(h + ": "); });
    if (u != run.unreachable.end())
      out << mask(fmt::format("{}: injoignable ({})\n", h, u->substr(h.size() + 2)));
    else
      out << fmt::format("{}: {} ({} réussi(s), {} échoué(s), {} avertissement(s), {} non exécuté(s){})\n", h,
                         t.fail > 0   ? "échec"
                         : t.warn > 0 ? "avertissements"
                                      : "ok",
                         t.pass, t.fail, t.warn, t.skipped,
                         t.not_tested ? fmt::format(", {} non testé(s) dans le lab", t.not_tested) : "");
  }
}

}  // namespace

int cmd_verify(const GlobalOptions& g, std::optional<int> module, VerifyMode mode) {
  auto opened = Run::open(g, "verify", NeedsModules::Yes);
  if (!opened) return bad_input(opened.error().message);
  Run& session = **opened;
  if (g.verbosity > 0) std::cerr << "log: " << session.log_path().string() << '\n';
  auto numbers = modules_to_verify(g, module);
  if (!numbers) return bad_input(numbers.error().message);

  // Everything that can be wrong in the input is reported before any host is contacted.
  std::vector<std::pair<const Module*, std::vector<Host>>> work;
  for (int n : *numbers) {
    auto m = session.module(n);
    if (!m) return bad_input(m.error().message);
    auto hosts = prepare_verify(session, **m);
    if (!hosts) return bad_input(hosts.error().message);
    work.emplace_back(*m, std::move(*hosts));
  }

  bool any_failed = false;
  // --json: one document on stdout for every module, the French lines go nowhere (the report still written).
  nlohmann::json doc{{"modules", nlohmann::json::array()}};
  std::ostringstream discard;
  std::ostream& out = g.json ? discard : std::cout;
  for (const auto& [m, hosts] : work) {
    out << fmt::format("==> Vérification du module {} ({}) sur {} serveur(s)\n", m->number, m->title_fr,
                       hosts.size());
    const VerifyOutcome o = verify_module(session, *m, hosts, mode);
    print_host_lines(out, o.run);
    for (const auto& w : o.warnings) std::cerr << "kbz-install verify: " << mask(w) << '\n';
    out << fmt::format("Statut : {} — rapport : {}\n", status_label(o.status), o.report_path);
    if (g.json) doc["modules"].push_back(verify_to_json(o.run, o.status, o.report_path));
    any_failed |= o.status == ReportStatus::Failed;
  }
  if (g.json) std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return any_failed ? static_cast<int>(ExitCode::HostFailure) : 0;
}

}  // namespace kbz
