// `kbz-install preflight [--module N]...`: per target host, read-only and in ONE exec: SSH login and sudo, OS
// and version, free disk on /, clock in sync, DNS, the ports the selected modules bind (free, or held by
// their own container). A table (or --json); exit 1 when a host fails. apply runs the same checks for its
// module.
#include <fmt/format.h>

#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "kbz/cli/commands.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/preflight.hpp"
#include "kbz/run/run.hpp"

namespace kbz {

int cmd_preflight(const GlobalOptions& g, const std::vector<int>& numbers) {
  auto opened = Run::open(g, "preflight", NeedsModules::Yes);
  if (!opened) {
    std::cerr << "kbz-install preflight: " << mask(opened.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  Run& run = **opened;
  std::vector<const Module*> modules;
  for (const auto& m : run.modules())
    if (numbers.empty() || std::find(numbers.begin(), numbers.end(), m.number) != numbers.end())
      modules.push_back(&m);
  for (int n : numbers)
    if (auto m = run.module(n); !m) {
      std::cerr << "kbz-install preflight: " << m.error().message << '\n';
      return static_cast<int>(ExitCode::BadInput);
    }
  // The hosts: every host of the selected modules (--hosts narrows), in inventory order, each with the
  // modules that target it.
  auto selected = run.selected_hosts();
  if (!selected) {
    std::cerr << "kbz-install preflight: " << mask(selected.error().message) << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  std::vector<Host> hosts;
  std::vector<std::vector<const Module*>> per_host;
  for (const auto& h : *selected) {
    std::vector<const Module*> mine;
    for (const Module* m : modules)
      if (auto mh = module_hosts(*m, run.targets(), h.hostname); mh && !mh->empty()) mine.push_back(m);
    if (mine.empty()) continue;
    hosts.push_back(h);
    per_host.push_back(std::move(mine));
  }
  if (hosts.empty()) {
    std::cerr << "kbz-install preflight: no host of the selected modules in " << g.inventory << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }

  std::vector<std::vector<PreflightResult>> results(hosts.size());
  std::vector<std::string> errors(hosts.size());
  for_each_host_parallel(hosts, g.forks, [&](const Host& host, size_t i) {
    auto conn = run.connect(host);
    if (!conn) {
      errors[i] = mask(conn.error().message);
      return;
    }
    const auto items = preflight_items(per_host[i], host, run.settings());
    auto out = run_batch(**conn, preflight_batch(items), Millis(g.timeout_s * 1000LL));
    if (!out) {
      errors[i] = mask(out.error().message);  // sudo refused, timeout: the host fails with the reason
      return;
    }
    for (const auto& o : *out)
      results[i].push_back(
          parse_preflight(o.id.substr(kPreflightPrefix.size()), o.exit_status, mask(o.output)));
  });

  int failed_hosts = 0;
  nlohmann::json doc{{"hosts", nlohmann::json::array()}};
  size_t width = 4;
  for (const auto& h : hosts) width = std::max(width, h.hostname.size());
  if (!g.json) std::cout << fmt::format("{:<{}}  {:<16}  {:<5}  {}\n", "host", width, "check", "", "detail");
  for (size_t i = 0; i < hosts.size(); ++i) {
    bool host_failed = !errors[i].empty();
    nlohmann::json jh{{"host", hosts[i].hostname}, {"error", errors[i]}, {"checks", nlohmann::json::array()}};
    if (!errors[i].empty() && !g.json)
      std::cout << fmt::format("{:<{}}  {:<16}  {:<5}  {}\n", hosts[i].hostname, width, "ssh+sudo", "fail",
                               errors[i]);
    for (const auto& r : results[i]) {
      host_failed |= r.status == PreflightStatus::Fail;
      jh["checks"].push_back({{"id", r.id}, {"status", preflight_word(r.status)}, {"detail", r.detail}});
      if (!g.json)
        std::cout << fmt::format("{:<{}}  {:<16}  {:<5}  {}\n", hosts[i].hostname, width, r.id,
                                 preflight_word(r.status), r.detail);
      run_log()->info("{} preflight {} {}: {}", hosts[i].hostname, r.id, preflight_word(r.status), r.detail);
    }
    jh["ok"] = !host_failed;
    doc["hosts"].push_back(jh);
    failed_hosts += host_failed;
  }
  if (g.json)
    std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else
    std::cout << fmt::format("\n{} host(s): {} ready, {} failed\n", hosts.size(), hosts.size() - failed_hosts,
                             failed_hosts);
  return failed_hosts == 0 ? 0 : static_cast<int>(ExitCode::HostFailure);
}

}  // namespace kbz
