#include "module_run.hpp"

#include <thread>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>
#include <sstream>

#include "kbz/core/interrupt.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/batch.hpp"
#include "kbz/engine/credentials.hpp"
#include "kbz/engine/rolling.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/workdir_lock.hpp"
#include "kbz/report/run_state.hpp"
#include "kbz/runners/logged_connection.hpp"
#include "run_progress.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBadInput = static_cast<int>(ExitCode::BadInput);

int bad_input(const std::string& message) {
  std::cerr << "kbz-install: " << mask(message) << '\n';
  return kBadInput;
}

std::string seconds(Millis ms) { return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0); }

nlohmann::json to_json(const RunSummary& s) {
  nlohmann::json hosts = nlohmann::json::array();
  nlohmann::json totals{{"hosts", s.hosts.size()}, {"ok", 0}, {"changed", 0}, {"would_change", 0}, {"failed", 0},
                        {"skipped", 0}, {"unreachable", 0}, {"execs", 0}, {"bytes_sent", 0}, {"bytes_received", 0}};
  for (const auto& h : s.hosts) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& r : h.steps) {
      nlohmann::json j{{"id", r.step_id}, {"status", status_word(r.status)}, {"message", mask(r.message)},
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
                        {"error", mask(h.error)},
                        {"steps", steps},
                        {"transport",
                         {{"execs", h.stats.execs}, {"bytes_sent", h.stats.bytes_sent}, {"bytes_received", h.stats.bytes_received}}}};
    for (const char* k : {"ok", "changed", "would_change", "failed", "skipped"}) totals[k] = totals[k].get<int>() + host[k].get<int>();
    totals["unreachable"] = totals["unreachable"].get<int>() + (h.unreachable ? 1 : 0);
    totals["execs"] = totals["execs"].get<uint64_t>() + h.stats.execs;
    totals["bytes_sent"] = totals["bytes_sent"].get<uint64_t>() + h.stats.bytes_sent;
    totals["bytes_received"] = totals["bytes_received"].get<uint64_t>() + h.stats.bytes_received;
    hosts.push_back(host);
  }
  totals["duration_ms"] = s.duration.count();
  return {{"module", s.module}, {"kind", s.kind == RunKind::Plan ? "plan" : "apply"}, {"interrupted", s.interrupted},
          {"hosts", hosts}, {"totals", totals}};
}

void print_recap(std::ostream& out, const RunSummary& s, size_t width) {
  out << '\n' << fmt::format("{:<{}}  {:>4}  {:>7}  {:>6}  {:>7}  {:>9}", "host", width, "ok", "changed", "failed", "skipped", "duration") << '\n';
  for (const auto& h : s.hosts) {
    out << fmt::format("{:<{}}  {:>4}  {:>7}  {:>6}  {:>7}  {:>9}", h.host.hostname, width, h.count(StepStatus::Ok),
                       h.count(StepStatus::Changed), h.count(StepStatus::Failed), h.count(StepStatus::Skipped),
                       seconds(h.duration));
    if (!h.error.empty()) out << "  " << mask(h.error);
    out << '\n';
  }
}

void print_plan(std::ostream& out, const RunSummary& s, const Module& m) {
  out << fmt::format("plan: module {} ({}) on {} host(s); nothing is changed\n", m.number, m.title, s.hosts.size());
  int pending = 0, clean = 0, broken = 0;
  for (const auto& h : s.hosts) {
    const int would = h.count(StepStatus::WouldChange), failed = h.count(StepStatus::Failed);
    if (!h.error.empty()) {
      out << fmt::format("\n{}: {}{}\n", h.host.hostname, h.unreachable ? "unreachable: " : "", mask(h.error));
      ++broken;
      continue;
    }
    out << fmt::format("\n{}: {} to change, {} ok{}\n", h.host.hostname, would, h.count(StepStatus::Ok),
                       failed ? fmt::format(", {} check(s) could not run", failed) : "");
    for (const auto& r : h.steps) {
      if (r.status != StepStatus::WouldChange && r.status != StepStatus::Failed) continue;
      out << fmt::format("  {} {}: {}\n", r.status == StepStatus::Failed ? "!" : "~", r.step_id, mask(r.message));
      std::istringstream diff(mask(r.diff));
      for (std::string line; std::getline(diff, line);) out << "      " << line << '\n';
    }
    (failed ? broken : would ? pending : clean) += 1;
  }
  out << fmt::format("\n{} host(s): {} with changes pending, {} up to date, {} with problems\n", s.hosts.size(),
                     pending, clean, broken);
}

struct Targets {
  std::vector<Host> module_hosts;  // the module's targets (group lists in templates)
  std::vector<Host> run_hosts;     // intersected with --hosts
};

std::variant<Targets, std::string> resolve(const GlobalOptions& g, const Module& m) {
  auto parsed = load_inventory(g.inventory);
  if (!parsed.ok()) {
    std::string all;
    for (const auto& d : parsed.errors) all += (all.empty() ? "" : "\n") + d.format();
    return all;
  }
  Targets t;
  const auto all = targets(parsed.inventory, g.target_options());
  t.module_hosts = all;
  if (!m.targets.empty() && m.targets != "all") {
    auto sel = select_hosts(all, m.targets);
    if (!sel) return fmt::format("module {} targets '{}': {}", m.number, m.targets, sel.error().message);
    t.module_hosts = *sel;
  }
  t.run_hosts = t.module_hosts;
  if (!g.hosts.empty()) {
    auto sel = select_hosts(all, g.hosts);
    if (!sel) return sel.error().message;
    t.run_hosts.clear();
    for (const auto& h : *sel)
      if (std::any_of(t.module_hosts.begin(), t.module_hosts.end(), [&](const Host& x) { return x.hostname == h.hostname; }))
        t.run_hosts.push_back(h);
    if (t.run_hosts.empty())
      return fmt::format("--hosts {}: none of these hosts is a target of module {} (targets: {})", g.hosts, m.number, m.targets);
  }
  if (t.run_hosts.empty()) return fmt::format("module {}: no target host in {}", m.number, g.inventory);
  return t;
}

}  // namespace

int run_module_command(const GlobalOptions& g, RunMode mode, int number, const std::string& from_step) {
  const bool apply = mode == RunMode::Apply;
  const char* kind = apply ? "apply" : "plan";
  ModuleSource source;
  if (!g.modules_dir.empty()) source.modules_dir = g.modules_dir;
  auto module = load_module(number, source);
  if (!module) return bad_input(module.error().message);
  if (!from_step.empty() &&
      std::none_of(module->steps.begin(), module->steps.end(), [&](const Step& s) { return s.id == from_step; })) {
    std::string ids;
    for (const auto& s : module->steps) ids += (ids.empty() ? "" : ", ") + s.id;
    return bad_input(fmt::format("--from-step {}: no such step in module {} (steps: {})", from_step, number, ids));
  }
  auto settings = load_settings(g.config);
  if (!settings) return bad_input(settings.error().message);
  auto resolved = resolve(g, *module);
  if (auto* why = std::get_if<std::string>(&resolved)) return bad_input(*why);
  const Targets targets_ = std::get<Targets>(std::move(resolved));
  const auto& hosts = targets_.run_hosts;

  // One apply per working folder at a time: two would race on the same hosts and on credentials/.
  std::optional<WorkdirLock> workdir_lock;
  if (apply) {
    std::string warning;
    auto lock = WorkdirLock::acquire(g.workdir, fmt::format("apply --module {}", number), &warning);
    if (!lock) return bad_input(lock.error().message);
    if (!warning.empty()) std::cerr << "kbz-install: warning: " << warning << '\n';
    workdir_lock.emplace(std::move(*lock));
  }

  // Credentials: every value is registered with the Masker on load; apply generates missing ones on first need.
  auto store = credentials::load_all(g.workdir);
  if (!store) return bad_input(store.error().message);
  std::map<std::string, std::string> creds;
  for (const auto& [key, value] : store->keys) creds[key] = value.reveal();
  for (const auto& spec : module->credentials) {
    if (creds.contains(spec.key)) continue;
    if (!apply) {
      creds[spec.key] = "(generated by apply)";
      continue;
    }
    auto secret = credentials::ensure(g.workdir, spec.file, spec.key, static_cast<std::size_t>(spec.length),
                                      spec.charset == "hex" ? credentials::Charset::Hex : credentials::Charset::Alnum);
    if (!secret) return bad_input(secret.error().message);
    creds[spec.key] = secret->reveal();
  }

  if (auto path = open_run_log(g.workdir, kind); !path) {
    std::cerr << "kbz-install: warning: no run log: " << path.error().message << '\n';
  } else if (g.verbosity > 0) {
    std::cerr << "log: " << path->string() << '\n';
  }
  // Rolling steps (apply only): a host waiting for its turn holds its worker thread, so with fewer threads than
  // hosts the hosts not started yet could never arrive and the waiting ones would wait for them forever.
  std::unique_ptr<RollingCoordinator> rolling;
  int forks = g.forks;
  if (apply && has_rolling_step(*module)) {
    std::vector<std::string> names;
    for (const auto& h : hosts) names.push_back(h.hostname);
    rolling = std::make_unique<RollingCoordinator>(*module, std::move(names));
    forks = std::max(forks, static_cast<int>(hosts.size()));
  }
  run_log()->info("{} module {} ({}) on {} host(s), forks {}{}", kind, number, module->source_dir, hosts.size(), forks,
                  from_step.empty() ? "" : ", from step " + from_step);

  RunSummary summary;
  summary.kind = apply ? RunKind::Apply : RunKind::Plan;
  summary.module = number;
  summary.started_utc = utc_now_iso();
  summary.hosts.resize(hosts.size());
  const auto started = Clock::now();
  size_t width = 4;
  for (const auto& h : hosts) width = std::max(width, h.hostname.size());

  HostLock host_lock;
  host_lock.run_id = new_batch_marker().substr(3, 16);
  host_lock.installer = this_hostname();
  host_lock.pid = static_cast<long>(getpid());
  host_lock.started_utc = summary.started_utc;

  {
    RunProgress progress(std::cout, apply && !g.json, width);
    SessionPool pool(g.connect_options());
    for_each_host_parallel(hosts, forks, [&](const Host& host, size_t i) {
      RollingLeave leave_rolling(rolling.get(), host.hostname);  // unreachable or not: nobody waits for this host
      auto conn = pool.connect(host);
      if (!conn) {
        HostRun r;
        r.host = host;
        r.unreachable = true;
        r.error = mask(conn.error().message);
        run_log()->error("{}: {}", host.hostname, conn.error().message);
        progress.host_line(host.hostname, "unreachable: " + r.error);
        summary.hosts[i] = std::move(r);
        return;
      }
      LoggedConnection logged(**conn);
      std::unique_ptr<LoggedConnection> fresh;
      HostJob job;
      job.module = &*module;
      job.context.host = host;
      job.context.settings = settings->raw;
      job.context.credentials = creds;
      job.context.all_hosts = targets_.module_hosts;
      job.mode = mode;
      job.from_step = from_step;
      job.lock = host_lock;
      job.observer = &progress;
      job.rolling = rolling.get();
      job.reconnect = [&]() -> Result<Connection*> {
        // After `systemctl reload ssh` the daemon re-executes itself: a connection in that instant is refused.
        // A few spaced tries tell "sshd is restarting" from "we locked ourselves out".
        auto c = pool.reconnect(host);
        for (int attempt = 1; !c && c.error().kind == ErrorKind::Connect && attempt < 5 && !interrupted(); ++attempt) {
          std::this_thread::sleep_for(std::chrono::seconds(attempt));
          c = pool.reconnect(host);
        }
        if (!c) return std::unexpected(c.error());
        fresh = std::make_unique<LoggedConnection>(**c);
        return fresh.get();
      };
      HostRun r = run_host(logged, job);
      for (const auto& s : r.steps)
        run_log()->info("{} {} {}{}", host.hostname, s.step_id, status_word(s.status), s.message.empty() ? "" : ": " + s.message);
      if (!r.error.empty()) {
        run_log()->error("{}: {}", host.hostname, r.error);
        progress.host_line(host.hostname, "error: " + r.error);
      }
      summary.hosts[i] = std::move(r);
    });
    pool.close_all();
  }
  for (size_t i = 0; i < hosts.size(); ++i)
    if (summary.hosts[i].host.hostname.empty()) {  // never started: Ctrl-C came first
      summary.hosts[i].host = hosts[i];
      summary.hosts[i].error = "interrupted before this host started";
    }
  summary.interrupted = interrupted();
  summary.duration = std::chrono::duration_cast<Millis>(Clock::now() - started);

  if (g.json) std::cout << to_json(summary).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else if (apply) print_recap(std::cout, summary, width);
  else print_plan(std::cout, summary, *module);
  if (summary.interrupted) std::cerr << "kbz-install: interrupted: locks released, run recorded as interrupted\n";

  if (auto rec = record_run(g.workdir, to_record(summary)); !rec)
    std::cerr << "kbz-install: warning: run not recorded: " << rec.error().message << '\n';
  run_log()->info("{} done in {} ms: {}", kind, summary.duration.count(), summary.ok() ? "ok" : "problems");
  close_run_log();
  return summary.ok() ? static_cast<int>(ExitCode::Ok) : static_cast<int>(ExitCode::HostFailure);
}

}  // namespace kbz
