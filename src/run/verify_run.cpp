#include "kbz/run/verify_run.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>

#include "kbz/core/atomic_file.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/core/time.hpp"
#include "kbz/engine/steps/image.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/report/log_archive.hpp"
#include "kbz/report/module_titles.hpp"
#include "kbz/report/run_state.hpp"
#include "kbz/report/suivi.hpp"
#include "kbz/verify/check_eval.hpp"
#include "kbz/verify/runner.hpp"

namespace kbz {
namespace fs = std::filesystem;
namespace {

TemplateContext check_context(const Run& run, const Module& m) {
  // Check commands are templates too ({{host.hostname}}, {{settings.network.private_cidr}},
  // {{facts.ssh_unit}}).
  TemplateContext templates;
  templates.settings = run.settings().raw;
  add_module_images(templates.settings, m);
  templates.all_hosts = run.targets();
  return templates;
}

std::vector<CredentialFileState> credential_states(const std::string& workdir, const Module& m) {
  std::vector<CredentialFileState> out;
  for (const auto& c : m.credentials) {
    const std::string rel = "credentials/" + c.file + ".env";
    auto it =
        std::find_if(out.begin(), out.end(), [&](const CredentialFileState& s) { return s.path == rel; });
    if (it == out.end()) {
      CredentialFileState s{rel, "absent", {}};
      struct stat st {};
      if (::stat((fs::path(workdir) / rel).c_str(), &st) == 0)
        s.mode = fmt::format("{:04o}", st.st_mode & 07777);
      out.push_back(std::move(s));
      it = out.end() - 1;
    }
    it->keys.push_back(c.for_each.empty() ? c.key : c.key + "_*");
  }
  return out;
}

std::string verify_command_line(const GlobalOptions& g, int module, VerifyMode mode) {
  std::string c = command_prefix(g);
  if (!g.hosts.empty()) c += " --hosts '" + g.hosts + "'";
  c += fmt::format(" verify --module {}", module);
  if (mode == VerifyMode::WithFailover) c += " --failover";
  return c;
}

// The module's last apply log (the run that the verify checks), from the recorded runs.
std::string last_apply_log(const std::vector<RunRecord>& runs, int module) {
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (it->module == module && it->kind == "apply") return it->log_path;
  return {};
}

}  // namespace

Result<std::vector<Host>> prepare_verify(Run& run, const Module& m) {
  for (const auto& c : m.checks)
    if (auto ok = validate_check_regexes(c, m.source_dir); !ok) return std::unexpected(ok.error());
  if (auto ok = check_failover_kinds(m, FailoverRegistry::global()); !ok) return std::unexpected(ok.error());
  auto hosts = run.hosts_for(m);
  if (!hosts) return hosts;
  if (auto ok = validate_check_commands(m, *hosts, check_context(run, m)); !ok)
    return std::unexpected(ok.error());
  return hosts;
}

VerifyOutcome verify_module(Run& run, const Module& m, const std::vector<Host>& hosts, VerifyMode mode) {
  const GlobalOptions& g = run.options();
  const Connector connect = [&run](const Host& h) { return run.connect(h); };
  VerifyOptions opts{g.forks, Millis(g.timeout_s * 1000), mode == VerifyMode::WithFailover, g.inventory,
                     check_context(run, m)};
  run_log()->info("verify module {} on {} host(s){}", m.number, hosts.size(),
                  mode == VerifyMode::WithFailover ? " with failover scenarios" : "");
  VerifyOutcome out;
  out.run = run_verify(m, hosts, connect, opts, FailoverRegistry::global());
  out.status = report_status(out.run);

  ReportContext ctx;
  ctx.generated_utc = now_utc_iso();
  ctx.version = KBZ_VERSION;
  ctx.command_line = verify_command_line(g, m.number, mode);
  ctx.failover_requested = mode == VerifyMode::WithFailover;
  ctx.credentials = credential_states(g.workdir, m);
  // The next module this binary has (3 may not be written yet when 4 is): never a command that would fail.
  if (const Module* next = run.next_module(m.number)) {
    ctx.next_module = next->number;
    ctx.next_module_title = next->title_fr.empty() ? builtin_module_title(next->number) : next->title_fr;
  }
  const std::string rel = "reports/" + validation_report_file_name(m.number);
  out.report_path = (fs::path(g.workdir) / rel).string();
  const std::string archive = archive_relative_path(m.number, out.run.started_utc);
  ctx.archive_path = archive;
  if (auto w = write_file_atomic(out.report_path, render_validation_report(m, out.run, ctx)); !w) {
    out.warnings.push_back(w.error().message);
    out.status = ReportStatus::Failed;
  }
  RunRecord record = to_record(out.run, rel);
  if (out.status == ReportStatus::Failed) record.status = "failed";  // e.g. nothing actually checked
  record.log_path = run.log_relative();
  record.archive_path = archive;
  if (auto r = record_run(g.workdir, record); !r) out.warnings.push_back(r.error().message);

  // The module run archived: its last apply log, this verify's log, the report, SUIVI as it is now.
  auto runs = load_runs(g.workdir);
  if (auto suivi = write_suivi(g, run.modules()); !suivi) out.warnings.push_back(suivi.error().message);
  std::vector<std::string> files = {runs ? last_apply_log(*runs, m.number) : std::string{},
                                    run.log_relative(), rel, "SUIVI_INSTALLATION_V2.md"};
  run_log()->info("module {} run archived as {}", m.number, archive);
  if (auto a = write_log_archive(g.workdir, archive, files); !a)
    out.warnings.push_back(a.error().message);
  else
    out.archive_path = archive;
  return out;
}

Result<std::string> write_suivi(const GlobalOptions& g, const std::vector<Module>& modules) {
  auto runs = load_runs(g.workdir);
  if (!runs) return std::unexpected(runs.error());
  SuiviContext ctx;
  ctx.generated_utc = now_utc_iso();
  ctx.version = KBZ_VERSION;
  ctx.command_prefix = command_prefix(g);
  // Titles from the module definitions; the built-in list covers modules not written yet.
  for (const auto& m : modules) {
    ctx.titles[m.number] = m.title_fr;
    ctx.available.insert(m.number);
  }
  const std::string text = render_suivi(*runs, ctx);
  const std::string path = (fs::path(g.workdir) / "SUIVI_INSTALLATION_V2.md").string();
  if (auto w = write_file_atomic(path, text); !w) return std::unexpected(w.error());
  return text;
}

}  // namespace kbz
