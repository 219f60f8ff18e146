// `kbz-install exec [--hosts SEL] -- COMMAND`: the command on every selected host at once (bounded by
// --forks), output grouped per host in inventory order, then `N ok, N failed, N unreachable`.
#include <chrono>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kbz/cli/commands.hpp"
#include "kbz/core/interrupt.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/run/run.hpp"

namespace kbz {
namespace {

enum class HostState { NotStarted, Ok, Failed, Unreachable };

struct HostOutcome {
  HostState state = HostState::NotStarted;
  std::optional<ExecResult> result;
  std::string error;  // transport error (unreachable, host key, auth, timeout), already masked
  Millis duration{0};
};

void print_prefixed(std::ostream& os, const std::string& host, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) os << host << ": " << line << '\n';
}

void print_text(const Host& host, const HostOutcome& o, int verbosity) {
  if (o.result) {
    print_prefixed(std::cout, host.hostname, mask(o.result->out));
    std::cout.flush();  // keeps the host's stdout before its stderr on a terminal
    print_prefixed(std::cerr, host.hostname, mask(o.result->err));
    if (o.result->exit_status != 0)
      std::cerr << host.hostname << ": exit status " << o.result->exit_status << '\n';
    else if (verbosity > 0)
      std::cerr << host.hostname << ": ok in " << o.duration.count() << " ms\n";
  } else if (o.state == HostState::NotStarted) {
    std::cerr << host.hostname << ": not started (interrupted)\n";
  } else if (o.error.starts_with(host.hostname + " (")) {
    std::cerr << o.error << '\n';  // transport errors already name the host and its address
  } else {
    std::cerr << host.hostname << ": " << o.error << '\n';
  }
  std::cerr.flush();
}

void print_json(const Host& host, const HostOutcome& o) {
  nlohmann::json j{
      {"host", host.hostname},
      {"address", host.address},
      {"exit_status", o.result ? nlohmann::json(o.result->exit_status) : nlohmann::json(nullptr)},
      {"stdout", o.result ? mask(o.result->out) : ""},
      {"stderr", o.result ? mask(o.result->err) : ""},
      {"duration_ms", o.duration.count()},
      {"error", o.result ? nlohmann::json(nullptr)
                         : nlohmann::json(o.state == HostState::NotStarted ? "interrupted" : o.error)}};
  // Invalid UTF-8 in remote output must not abort the run: replace it.
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace

int cmd_exec(const GlobalOptions& g, const std::vector<std::string>& words) {
  const auto started = std::chrono::steady_clock::now();
  std::string command;
  for (const auto& w : words)
    command += (command.empty() ? "" : " ") + w;  // like ssh: words joined by spaces
  if (command.empty()) {
    std::cerr << "kbz-install exec: no command given (exec -- COMMAND)\n";
    return static_cast<int>(ExitCode::BadInput);
  }
  // Load, validate, select: every inventory or --hosts problem is printed, then exit 2.
  auto run = Run::open(g, "exec", NeedsModules::No);
  if (!run) {
    std::cerr << mask(run.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  auto selected = (*run)->selected_hosts();
  if (!selected) {
    std::cerr << "kbz-install exec: " << mask(selected.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  const std::vector<Host> hosts = std::move(*selected);
  if (g.verbosity > 0) std::cerr << "log: " << (*run)->log_path().string() << '\n';
  run_log()->info("exec on {} host(s), forks {}: `{}`", hosts.size(), g.forks, command);

  std::vector<HostOutcome> outcomes(hosts.size());
  std::vector<bool> done(hosts.size(), false);
  std::mutex print_mutex;
  size_t next_to_print = 0;
  // Hosts are printed as soon as every host before them (inventory order) is finished.
  auto flush_ready = [&] {
    while (next_to_print < hosts.size() && done[next_to_print]) {
      if (g.json)
        print_json(hosts[next_to_print], outcomes[next_to_print]);
      else
        print_text(hosts[next_to_print], outcomes[next_to_print], g.verbosity);
      ++next_to_print;
    }
  };

  for_each_host_parallel(hosts, g.forks, [&](const Host& host, size_t i) {
    HostOutcome o;
    const auto t0 = std::chrono::steady_clock::now();
    auto conn = (*run)->connect(host);
    if (!conn) {
      o.state = HostState::Unreachable;
      o.error = mask(conn.error().message);
    } else {
      ExecRequest request;
      request.command = command;
      request.privilege = Privilege::AsUser;  // like ssh/pdsh: the inventory's user, no sudo added
      auto r = (*conn)->run(request);
      if (!r) {
        o.state = HostState::Failed;
        o.error = mask(r.error().message);
      } else {
        o.state = r->exit_status == 0 ? HostState::Ok : HostState::Failed;
        o.result = std::move(*r);
      }
    }
    o.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0);
    std::lock_guard lock(print_mutex);
    outcomes[i] = std::move(o);
    done[i] = true;
    flush_ready();
  });
  {
    std::lock_guard lock(print_mutex);
    std::fill(done.begin(), done.end(), true);  // the rest were never started (Ctrl-C)
    flush_ready();
  }
  const TransportStats stats = (*run)->transport_stats();

  size_t ok = 0, failed = 0, unreachable = 0, skipped = 0;
  for (const auto& o : outcomes) {
    switch (o.state) {
      case HostState::Ok:
        ++ok;
        break;
      case HostState::Failed:
        ++failed;
        break;
      case HostState::Unreachable:
        ++unreachable;
        break;
      case HostState::NotStarted:
        ++skipped;
        break;
    }
  }
  const auto elapsed = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  std::string summary = std::to_string(ok) + " ok, " + std::to_string(failed) + " failed, " +
                        std::to_string(unreachable) + " unreachable";
  if (skipped > 0) summary += ", " + std::to_string(skipped) + " interrupted";
  if (g.json) {
    nlohmann::json s{{"summary",
                      {{"ok", ok},
                       {"failed", failed},
                       {"unreachable", unreachable},
                       {"interrupted", skipped},
                       {"execs", stats.execs},
                       {"bytes_sent", stats.bytes_sent},
                       {"bytes_received", stats.bytes_received},
                       {"uploads", stats.uploads},
                       {"duration_ms", elapsed.count()}}}};
    std::cout << s.dump() << '\n';
  } else {
    std::cout << summary << '\n';
  }
  run_log()->info("{} ({} ms, {} execs, {} bytes sent, {} received)", summary, elapsed.count(), stats.execs,
                  stats.bytes_sent, stats.bytes_received);
  return (failed + unreachable + skipped) == 0 ? static_cast<int>(ExitCode::Ok)
                                               : static_cast<int>(ExitCode::HostFailure);
}

}  // namespace kbz
