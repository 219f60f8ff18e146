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

std::vector<CredentialFileState> credential_states(const GlobalOptions& g, const Module& m) {
  std::vector<CredentialFileState> out;
  for (const auto& c : m.credentials) {
    const std::string rel = "credentials/" + c.file + ".env";
    auto it =
        std::find_if(out.begin(), out.end(), [&](const CredentialFileState& s) { return s.path == rel; });
    if (it == out.end()) {
      CredentialFileState s{rel, "absent", {}};
      struct stat st {};
      if (::stat((fs::path(g.workdir) / rel).c_str(), &st) == 0)
        s.mode = fmt::format("{:04o}", st.st_mode & 07777);
      out.push_back(std::move(s));
      it = out.end() - 1;
    }
    it->keys.push_back(c.key);
  }
  return out;
}

std::string verify_command_line(const GlobalOptions& g, int module, bool failover) {
  std::string c = command_prefix(g);
  if (!g.hosts.empty()) c += " --hosts '" + g.hosts + "'";
  c += fmt::format(" verify --module {}", module);
  if (failover) c += " --failover";
  return c;
}

struct Prepared {
  const Module* module;
  std::vector<Host> hosts;
};

}  // namespace

int cmd_verify(const GlobalOptions& g, std::optional<int> module, VerifyMode mode) {
  const bool failover = mode == VerifyMode::WithFailover;
  auto opened = Run::open(g, "verify", NeedsModules::Yes);
  if (!opened) return bad_input(opened.error().message);
  Run& session = **opened;
  if (g.verbosity > 0) std::cerr << "log: " << session.log_path().string() << '\n';

  auto numbers = modules_to_verify(g, module);
  if (!numbers) return bad_input(numbers.error().message);

  // Check commands are templates too ({{host.hostname}}, {{settings.network.private_cidr}},
  // {{facts.ssh_unit}}).
  TemplateContext templates;
  templates.settings = session.settings().raw;
  templates.all_hosts = session.targets();

  // Everything that can be wrong in the input is reported before any host is contacted.
  std::vector<Prepared> work;
  for (int n : *numbers) {
    auto m = session.module(n);
    if (!m) return bad_input(m.error().message);
    for (const auto& c : (*m)->checks)
      if (auto ok = validate_check_regexes(c, (*m)->source_dir); !ok) return bad_input(ok.error().message);
    if (auto ok = check_failover_kinds(**m, FailoverRegistry::global()); !ok)
      return bad_input(ok.error().message);
    auto hosts = session.hosts_for(**m);
    if (!hosts) return bad_input(hosts.error().message);
    if (auto ok = validate_check_commands(**m, *hosts, templates); !ok) return bad_input(ok.error().message);
    work.push_back(Prepared{*m, std::move(*hosts)});
  }

  const Connector connect = [&session](const Host& h) { return session.connect(h); };
  bool any_failed = false;
  // --json: one document on stdout for every module, the French lines go nowhere (the report still written).
  nlohmann::json doc{{"modules", nlohmann::json::array()}};
  std::ostringstream discard;
  std::ostream& out = g.json ? discard : std::cout;
  for (const auto& [mp, hosts] : work) {
    const Module& m = *mp;
    out << fmt::format("==> Vérification du module {} ({}) sur {} serveur(s)\n", m.number, m.title_fr,
                       hosts.size());
    VerifyOptions opts{g.forks, Millis(g.timeout_s * 1000), failover, g.inventory, templates};
    const VerifyRun run = run_verify(m, hosts, connect, opts, FailoverRegistry::global());

    for (const auto& h : run.hosts) {
      const CheckTally t = run.tally_for_host(h);
      auto u = std::find_if(run.unreachable.begin(), run.unreachable.end(),
                            [&](const std::string& s) { return s.starts_with(h + ": "); });
      if (u != run.unreachable.end())
        out << mask(fmt::format("{}: injoignable ({})\n", h, u->substr(h.size() + 2)));
      else
        out << fmt::format("{}: {} ({} réussi(s), {} échoué(s), {} avertissement(s), {} non exécuté(s))\n", h,
                           t.fail > 0   ? "échec"
                           : t.warn > 0 ? "avertissements"
                                        : "ok",
                           t.pass, t.fail, t.warn, t.skipped);
    }

    ReportContext ctx;
    ctx.generated_utc = now_utc_iso();
    ctx.version = KBZ_VERSION;
    ctx.command_line = verify_command_line(g, m.number, failover);
    ctx.failover_requested = failover;
    ctx.credentials = credential_states(g, m);
    // The next module this binary has (3 may not be written yet when 4 is): never a command that would fail.
    if (const Module* next = session.next_module(m.number)) {
      ctx.next_module = next->number;
      ctx.next_module_title = next->title_fr.empty() ? builtin_module_title(next->number) : next->title_fr;
    }
    const std::string rel = "reports/" + validation_report_file_name(m.number);
    const std::string path = (fs::path(g.workdir) / rel).string();
    const ReportStatus status = report_status(run);
    if (auto w = write_file_atomic(path, render_validation_report(m, run, ctx)); !w) {
      std::cerr << "kbz-install verify: " << mask(w.error().message) << '\n';
      any_failed = true;
    }
    RunRecord record = to_record(run, rel);
    if (status == ReportStatus::Failed) record.status = "failed";  // e.g. nothing actually checked
    if (auto r = record_run(g.workdir, record); !r)
      std::cerr << "kbz-install verify: " << mask(r.error().message) << '\n';
    out << fmt::format("Statut : {} — rapport : {}\n", status_label(status), path);
    if (g.json) doc["modules"].push_back(verify_to_json(run, status, path));
    any_failed |= status == ReportStatus::Failed;
  }
  if (g.json) std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return any_failed ? static_cast<int>(ExitCode::HostFailure) : 0;
}

}  // namespace kbz
