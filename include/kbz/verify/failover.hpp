// Failover scenarios are named C++ kinds (stop the Redis master and time the Sentinel election, ...): what a
// scenario does is too stateful for YAML. Later modules register their kinds here; module.yaml names them.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

using Connector = std::function<Result<Connection*>(const Host&)>;

// What a scenario gets: the module, its hosts in this run, a way to reach them, and its own params.
struct VerifyContext {
  const Module& module;
  const std::vector<Host>& hosts;
  const Connector& connect;
  const FailoverScenario& scenario;
  Millis timeout{0};
};

using FailoverFn = std::function<FailoverResult(VerifyContext&)>;

class FailoverRegistry {
 public:
  // The process-wide registry the CLI uses; modules' kinds are added at start-up (none for module 2).
  static FailoverRegistry& global();
  void add(const std::string& kind, FailoverFn fn);
  const FailoverFn* find(const std::string& kind) const;
  std::vector<std::string> kinds() const;

 private:
  std::map<std::string, FailoverFn> kinds_;
};

// The built-in kinds (src/failover/table.cpp, one row per scenario file).
void register_builtin_failovers(FailoverRegistry& registry);

// Every scenario of the module names a registered kind; an unknown kind is a load error (exit 2), reported
// before anything runs.
Result<void> check_failover_kinds(const Module& module, const FailoverRegistry& registry);

}  // namespace kbz
