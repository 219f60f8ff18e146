// `kbz-install inventory`: check servers.tsv and show the hosts a run would reach. Even when the file has
// errors, what parsed is shown first, then every diagnostic on stderr (exit 2), so one run lists everything
// to fix.
#include <iostream>
#include <nlohmann/json.hpp>

#include "kbz/cli/commands.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/inventory/table.hpp"

namespace kbz {
namespace {

nlohmann::json to_json(const Host& h) {
  return {{"hostname", h.hostname},
          {"address", h.address},
          {"port", h.port},
          {"user", h.user},
          {"env", h.env},
          {"public_ip", h.public_ip},
          {"private_ip", h.private_ip},
          {"fqdn", h.fqdn},
          {"pool", h.pool},
          {"role", h.role},
          {"subrole", h.subrole},
          {"docker_stack", h.docker_stack},
          {"core", h.core},
          {"notes", h.notes},
          {"line", h.line}};
}

nlohmann::json to_json(const Diagnostic& d) {
  return {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}, {"hint", d.hint}};
}

const char* address_name(AddressKind a) { return a == AddressKind::Public ? "IP_PUBLIQUE" : "IP_PRIVEE"; }

}  // namespace

int cmd_inventory(const GlobalOptions& g) {
  const auto set = resolve_targets(g.inventory, g.target_options(), g.hosts);

  if (g.json) {
    nlohmann::json out = {{"inventory", g.inventory},
                          {"env", g.env},
                          {"address", g.address == AddressKind::Public ? "public" : "private"},
                          {"count", set.hosts.size()},
                          {"hosts", nlohmann::json::array()},
                          {"errors", nlohmann::json::array()}};
    for (const auto& h : set.hosts) out["hosts"].push_back(to_json(h));
    for (const auto& d : set.errors) out["errors"].push_back(to_json(d));
    std::cout << mask(out.dump(2)) << "\n";
  } else if (!set.hosts.empty()) {
    std::cout << mask(format_host_table(set.hosts));
    std::cout << set.hosts.size() << (set.hosts.size() == 1 ? " host" : " hosts") << " (env " << g.env
              << ", reached on " << address_name(g.address) << (g.hosts.empty() ? "" : ", --hosts " + g.hosts)
              << "; the orchestrator is never a target)\n";
  }

  if (set.ok()) return static_cast<int>(ExitCode::Ok);
  for (const auto& d : set.errors) std::cerr << mask(d.format()) << "\n";
  std::cerr << set.errors.size() << (set.errors.size() == 1 ? " error" : " errors") << " (inventory "
            << g.inventory << ")\n";
  return static_cast<int>(ExitCode::BadInput);
}

}  // namespace kbz
