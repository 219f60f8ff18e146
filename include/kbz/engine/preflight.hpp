// Preflight (the seed's "vérifier l'accès SSH à tous les serveurs"): read-only checks of a host before a
// module changes it — SSH login and sudo (the exec itself), OS and version, free disk on /, the clock in
// sync, DNS resolving, the ports the modules bind free or held by their own container. `kbz-install
// preflight` runs them in ONE exec per host; `apply` sends its module's in the same exec as its first checks
// (no extra exec) and refuses a host whose preflight fails, unless --skip-preflight.
#pragma once
#include <string>
#include <vector>

#include "kbz/engine/batch.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

enum class PreflightStatus { Ok, Warn, Fail };

struct PreflightItem {
  std::string id;      // os, disk-root, clock, dns, port-6379/tcp
  std::string script;  // prints its verdict last: "ok ...", "warn ..." or "fail ..."
};

struct PreflightResult {
  std::string id;
  PreflightStatus status = PreflightStatus::Fail;
  std::string detail;
};

// Batch item ids carry this prefix, so they ride in the same batch as a module's checks.
inline constexpr std::string_view kPreflightPrefix = "preflight:";

// The checks for `host` when these modules are applied to it (their `listens:` that apply to the host).
std::vector<PreflightItem> preflight_items(const std::vector<const Module*>& modules, const Host& host,
                                           const Settings& settings);
std::vector<BatchItem> preflight_batch(const std::vector<PreflightItem>& items);
// An item's output (its last non-empty line is the verdict); anything else is a failure saying so.
PreflightResult parse_preflight(const std::string& id, int exit_status, const std::string& output);
// "preflight: port-6379/tcp: held by redis-server (pid 123); dns: ..." for the failed ones, "" when none
// failed.
std::string preflight_failures(const std::vector<PreflightResult>& results);
const char* preflight_word(PreflightStatus s);

}  // namespace kbz
