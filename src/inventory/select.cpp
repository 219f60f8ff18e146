// Targets and --hosts selection. Selection never guesses: a term that matches nothing is an error, so a typo
// cannot silently shrink a run to fewer hosts than the operator meant.
#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <string>

#include "inventory/text.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {
namespace {

namespace t = inventory_text;

constexpr std::string_view kKinds[] = {"role:", "pool:", "subrole:", "stack:"};

bool glob(std::string_view pattern, const std::string& value) {
  return fnmatch(std::string(pattern).c_str(), value.c_str(), 0) == 0;
}

std::vector<std::string_view> terms_of(std::string_view selector) {
  std::vector<std::string_view> terms;
  for (const auto raw : t::split(selector, ',')) {
    const auto term = t::trim_spaces(raw);
    if (!term.empty()) terms.push_back(term);
  }
  return terms;
}

}  // namespace

std::vector<Host> targets(const Inventory& inventory, const TargetOptions& options) {
  std::vector<Host> out;
  for (const auto& row : inventory.rows) {
    if (row.env != options.env || row.is_orchestrator()) continue;
    Host h = row;
    h.address = options.address == AddressKind::Public ? h.public_ip : h.private_ip;
    out.push_back(std::move(h));
  }
  return out;
}

bool host_matches(const Host& host, std::string_view term) {
  if (term == "all") return true;
  if (term.starts_with("role:")) return glob(term.substr(5), host.role);
  if (term.starts_with("pool:")) return glob(term.substr(5), host.pool);
  if (term.starts_with("subrole:")) return glob(term.substr(8), host.subrole);
  // DOCKER_STACK: the only column telling the Patroni nodes (patroni-node) from temporal-db-01 and
  // analytics-db-01, which share ROLE db / SUBROLE postgres.
  if (term.starts_with("stack:")) return glob(term.substr(6), host.docker_stack);
  return glob(term, host.hostname);
}

Result<std::vector<Host>> select_hosts(const std::vector<Host>& hosts, std::string_view selector) {
  const auto terms = terms_of(selector);
  if (terms.empty()) return hosts;

  std::vector<std::string> problems;
  for (const auto term : terms) {
    const auto colon = term.find(':');
    if (colon != std::string_view::npos &&
        std::none_of(std::begin(kKinds), std::end(kKinds), [&](auto k) { return term.starts_with(k); })) {
      problems.push_back("unknown selector '" + std::string(term.substr(0, colon + 1)) + "' in '" +
                         std::string(term) + "' (known: role:, pool:, subrole:, stack:)");
    } else if (std::none_of(hosts.begin(), hosts.end(),
                            [&](const Host& h) { return host_matches(h, term); })) {
      problems.push_back("no target host matches '" + std::string(term) + "'");
    }
  }
  if (!problems.empty()) {
    std::string message = "--hosts: ";
    for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    return fail(ErrorKind::Usage, message);
  }

  std::vector<Host> out;
  for (const auto& h : hosts) {
    if (std::any_of(terms.begin(), terms.end(), [&](auto term) { return host_matches(h, term); })) {
      out.push_back(h);
    }
  }
  return out;
}

TargetSet resolve_targets(const std::string& path, const TargetOptions& options, std::string_view selector) {
  auto parsed = load_inventory(path);
  TargetSet set{std::move(parsed.inventory), {}, std::move(parsed.errors)};
  if (set.inventory.rows.empty()) {  // nothing to select from: the parse errors say why
    if (set.errors.empty())
      set.errors.push_back(Diagnostic{path, 0, "", "the inventory has no host rows", ""});
    return set;
  }
  auto all = targets(set.inventory, options);
  if (all.empty()) {
    std::set<std::string> envs;
    for (const auto& r : set.inventory.rows) envs.insert(r.env);
    std::string found;
    for (const auto& e : envs) found += (found.empty() ? "" : ", ") + e;
    set.errors.push_back(Diagnostic{path, 0, "ENV", "no target host has ENV '" + options.env + "'",
                                    "ENV values in the file: " + found + " (choose one with --env)"});
    return set;
  }

  auto selected = select_hosts(all, selector);
  if (!selected) {
    set.errors.push_back(Diagnostic{"", 0, "", selected.error().message, ""});
    return set;
  }
  set.hosts = std::move(*selected);

  if (options.address == AddressKind::Public) {
    for (const auto& h : set.hosts) {
      if (h.address.empty()) {
        set.errors.push_back(Diagnostic{path, h.line, "IP_PUBLIQUE",
                                        "empty, but --address public reaches " + h.hostname + " on it",
                                        "fill IP_PUBLIQUE or use --address private"});
      }
    }
  }
  return set;
}

}  // namespace kbz
