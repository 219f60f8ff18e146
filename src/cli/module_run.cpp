// Prints plan and apply (src/run/module_run.cpp does the work): live lines, the recap or the plan, --json.
#include "module_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kbz/core/secret.hpp"
#include "kbz/run/module_run.hpp"
#include "run_progress.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBadInput = static_cast<int>(ExitCode::BadInput);

int bad_input(const Error& e) {
  std::cerr << "kbz-install: " << mask(e.message) << '\n';
  return e.kind == ErrorKind::Io ? static_cast<int>(ExitCode::HostFailure) : kBadInput;
}

std::string seconds(Millis ms) { return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0); }

nlohmann::json to_json(const RunSummary& s) {
  nlohmann::json hosts = nlohmann::json::array();
  nlohmann::json totals{{"hosts", s.hosts.size()}, {"ok", 0},     {"changed", 0},
                        {"would_change", 0},       {"failed", 0}, {"skipped", 0},
                        {"unreachable", 0},        {"execs", 0},  {"bytes_sent", 0},
                        {"bytes_received", 0}};
  for (const auto& h : s.hosts) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& r : h.steps) {
      nlohmann::json j{{"id", r.step_id},
                       {"status", status_word(r.status)},
                       {"message", mask(r.message)},
                       {"duration_ms", r.duration.count()}};
      if (!r.diff.empty()) j["diff"] = mask(r.diff);
      steps.push_back(j);
    }
    nlohmann::json host{{"host", h.host.hostname},
                        {"ok", h.count(StepStatus::Ok)},
                        {"changed", h.count(StepStatus::Changed)},
                        {"would_change", h.count(StepStatus::WouldChange)},
                        {"failed", h.count(StepStatus::Failed)},
                        {"skipped", h.count(StepStatus::Skipped)},
                        {"unreachable", h.unreachable},
                        {"duration_ms", h.duration.count()},
                        {"error", mask(h.first_failure())},
                        {"cleanup_errors", h.cleanup_errors},
                        {"steps", steps},
                        {"transport",
                         {{"execs", h.stats.execs},
                          {"bytes_sent", h.stats.bytes_sent},
                          {"bytes_received", h.stats.bytes_received}}}};
    for (const char* k : {"ok", "changed", "would_change", "failed", "skipped"})
      totals[k] = totals[k].get<int>() + host[k].get<int>();
    totals["unreachable"] = totals["unreachable"].get<int>() + (h.unreachable ? 1 : 0);
    totals["execs"] = totals["execs"].get<uint64_t>() + h.stats.execs;
    totals["bytes_sent"] = totals["bytes_sent"].get<uint64_t>() + h.stats.bytes_sent;
    totals["bytes_received"] = totals["bytes_received"].get<uint64_t>() + h.stats.bytes_received;
    hosts.push_back(host);
  }
  totals["duration_ms"] = s.duration.count();
  return {{"module", s.module},
          {"kind", s.kind == RunKind::Plan ? "plan" : "apply"},
          {"interrupted", s.interrupted},
          {"hosts", hosts},
          {"totals", totals}};
}

void print_plan(std::ostream& out, const RunSummary& s, const Module& m) {
  out << fmt::format("plan: module {} ({}) on {} host(s); nothing is changed\n", m.number, m.title,
                     s.hosts.size());
  int pending = 0, clean = 0, broken = 0;
  for (const auto& h : s.hosts) {
    const int would = h.count(StepStatus::WouldChange), failed = h.count(StepStatus::Failed);
    if (!h.error.empty()) {
      out << fmt::format("\n{}: {}{}\n", h.host.hostname, h.unreachable ? "unreachable: " : "",
                         mask(h.error));
      ++broken;
      continue;
    }
    out << fmt::format("\n{}: {} to change, {} ok{}\n", h.host.hostname, would, h.count(StepStatus::Ok),
                       failed ? fmt::format(", {} check(s) could not run", failed) : "");
    for (const auto& r : h.steps) {
      if (r.status == StepStatus::Ok && !r.message.empty()) {  // nothing to do, but something to know
        out << fmt::format("  = {}: {}\n", r.step_id, mask(r.message));
        continue;
      }
      if (r.status != StepStatus::WouldChange && r.status != StepStatus::Failed) continue;
      out << fmt::format("  {} {}: {}\n", r.status == StepStatus::Failed ? "!" : "~", r.step_id,
                         mask(r.message));
      std::istringstream diff(mask(r.diff));
      for (std::string line; std::getline(diff, line);) out << "      " << line << '\n';
    }
    (failed ? broken : would ? pending : clean) += 1;
  }
  out << fmt::format("\n{} host(s): {} with changes pending, {} up to date, {} with problems\n",
                     s.hosts.size(), pending, clean, broken);
}

}  // namespace

void print_recap(std::ostream& out, const RunSummary& s, size_t width) {
  out << '\n'
      << fmt::format("{:<{}}  {:>4}  {:>7}  {:>6}  {:>7}  {:>9}", "host", width, "ok", "changed", "failed",
                     "skipped", "duration")
      << '\n';
  for (const auto& h : s.hosts) {
    out << fmt::format("{:<{}}  {:>4}  {:>7}  {:>6}  {:>7}  {:>9}", h.host.hostname, width,
                       h.count(StepStatus::Ok), h.count(StepStatus::Changed), h.count(StepStatus::Failed),
                       h.count(StepStatus::Skipped), seconds(h.duration));
    // The first failure says why; what failed while cleaning up comes after it.
    if (const auto why = h.first_failure(); !why.empty()) out << "  " << mask(why);
    for (const auto& e : h.cleanup_errors) out << "  (then: " << mask(e) << ")";
    out << '\n';
  }
}

int run_module_command(const GlobalOptions& g, RunMode mode, int number, const std::string& from_step) {
  const bool apply = mode == RunMode::Apply;
  auto run = Run::open(g, apply ? "apply" : "plan", NeedsModules::Yes);
  if (!run) return bad_input(run.error());
  if (g.verbosity > 0) std::cerr << "log: " << (*run)->log_path().string() << '\n';
  size_t width = 4;
  for (const auto& h : (*run)->targets()) width = std::max(width, h.hostname.size());
  Result<RunSummary> summary = RunSummary{};
  {
    RunProgress progress(std::cout, apply && !g.json ? RunProgress::Live::Lines : RunProgress::Live::Quiet,
                         width);
    summary =
        run_module(**run, ModuleRunRequest{number, mode, from_step, &progress,
                                           g.skip_preflight ? PreflightUse::Skip : PreflightUse::Enforce});
  }
  if (!summary) return bad_input(summary.error());
  for (const auto& w : summary->warnings) std::cerr << "kbz-install: warning: " << mask(w) << '\n';
  if (g.json)
    std::cout << to_json(*summary).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else if (apply)
    print_recap(std::cout, *summary, width);
  else
    print_plan(std::cout, *summary, *(*run)->module(number).value());
  if (summary->interrupted)
    std::cerr << "kbz-install: interrupted: locks released, run recorded as interrupted\n";
  return summary->ok() ? static_cast<int>(ExitCode::Ok) : static_cast<int>(ExitCode::HostFailure);
}

}  // namespace kbz
