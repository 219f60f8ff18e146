// `kbz-install apply --all [--from-module N] [--failover]`: every module this binary has, in the seed's order
// (2 first, then 3 ... 9), each apply followed by its verify; it stops at the first module whose apply or
// verify fails, says where and how to resume. `verify --all` verifies them all the same way without applying.
// One run (inputs loaded once, one session per host for the whole chain), one log per module apply and
// verify.
#include <fmt/format.h>

#include <iostream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/report/cli_support.hpp"
#include "kbz/run/module_run.hpp"
#include "kbz/run/verify_run.hpp"
#include "module_run.hpp"
#include "run_progress.hpp"

namespace kbz {
namespace {

int stop_at(const Run& run, int module, const std::string& what, const std::string& why) {
  std::cout << fmt::format(
      "\nchain stopped at module {} ({}): {}\nresume with: {} apply --all --from-module {}\n", module, what,
      mask(why), command_prefix(run.options()), module);
  return static_cast<int>(ExitCode::HostFailure);
}

void print_verify(const VerifyOutcome& o) {
  for (const auto& w : o.warnings) std::cerr << "kbz-install: warning: " << mask(w) << '\n';
  std::cout << fmt::format("Statut : {} — rapport : {}{}\n", status_label(o.status), o.report_path,
                           o.archive_path.empty() ? "" : " — archive : " + o.archive_path);
}

}  // namespace

int cmd_chain(const GlobalOptions& g, ChainMode mode, int from_module, VerifyMode verify_mode) {
  const bool apply = mode == ChainMode::ApplyAndVerify;
  auto opened = Run::open(g, apply ? "apply-all" : "verify-all", NeedsModules::Yes);
  if (!opened) {
    std::cerr << "kbz-install: " << mask(opened.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  Run& run = **opened;
  std::vector<const Module*> chain;
  for (const auto& m : run.modules())
    if (m.number >= from_module) chain.push_back(&m);
  std::sort(chain.begin(), chain.end(),
            [](const Module* a, const Module* b) { return a->number < b->number; });
  if (chain.empty()) {
    std::cerr << fmt::format("kbz-install: --from-module {}: no module from there on\n", from_module);
    return static_cast<int>(ExitCode::BadInput);
  }
  size_t width = 4;
  for (const auto& h : run.targets()) width = std::max(width, h.hostname.size());

  for (const Module* m : chain) {
    // An inventory without this module's hosts (a partial fleet) skips the module, and says so.
    auto hosts = prepare_verify(run, *m);
    if (!hosts) {
      if (hosts.error().message.find("no target host") != std::string::npos) {
        std::cout << fmt::format("\n==> module {} ({}): no target host in {}: skipped\n", m->number,
                                 m->title_fr, g.inventory);
        continue;
      }
      std::cerr << "kbz-install: " << mask(hosts.error().message) << '\n';
      return static_cast<int>(ExitCode::BadInput);
    }
    if (apply) {
      std::cout << fmt::format("\n==> apply --module {} ({})\n", m->number, m->title);
      if (auto ok = run.open_log(fmt::format("apply-module{}", m->number)); !ok)
        std::cerr << "kbz-install: warning: " << ok.error().message << '\n';
      Result<RunSummary> summary = RunSummary{};
      {
        RunProgress progress(std::cout, g.json ? RunProgress::Live::Quiet : RunProgress::Live::Lines, width);
        summary =
            run_module(run, ModuleRunRequest{m->number, RunMode::Apply, "", &progress,
                                             g.skip_preflight ? PreflightUse::Skip : PreflightUse::Enforce});
      }
      if (!summary) {
        std::cerr << "kbz-install: " << mask(summary.error().message) << '\n';
        return static_cast<int>(ExitCode::BadInput);
      }
      for (const auto& w : summary->warnings) std::cerr << "kbz-install: warning: " << mask(w) << '\n';
      print_recap(std::cout, *summary, width);
      if (!summary->ok()) {
        std::string why = summary->interrupted ? "interrupted" : "";
        for (const auto& h : summary->hosts)
          if (why.empty() && !h.first_failure().empty()) why = h.host.hostname + ": " + h.first_failure();
        return stop_at(run, m->number, "apply", why.empty() ? "a host failed" : why);
      }
    }
    std::cout << fmt::format("\n==> verify --module {} ({})\n", m->number, m->title_fr);
    if (auto ok = run.open_log(fmt::format("verify-module{}", m->number)); !ok)
      std::cerr << "kbz-install: warning: " << ok.error().message << '\n';
    const VerifyOutcome o = verify_module(run, *m, *hosts, verify_mode);
    print_verify(o);
    if (o.status == ReportStatus::Failed)
      return stop_at(run, m->number, "verify", fmt::format("see {}", o.report_path));
  }
  if (auto text = write_suivi(g, run.modules()); !text)
    std::cerr << "kbz-install: warning: " << mask(text.error().message) << '\n';
  std::cout << fmt::format("\nevery module done: {}/SUIVI_INSTALLATION_V2.md\n", g.workdir);
  return 0;
}

}  // namespace kbz
