// One run path below the CLI (ninja's ninja.cc loads the manifest once for every tool): what a command needs
// is loaded once here — inventory, modules, settings (one rule for a missing --config), target hosts through
// ONE selector function — and the run owns what every remote command shares: the run log, the session pool
// (every connection, exec and upload logged by the transport), the reconnect policy and, for apply, the
// workdir lock. cmd_* files only print.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/workdir_lock.hpp"
#include "kbz/run/options.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

enum class NeedsModules { No, Yes };  // exec needs the inventory only

// The ONE selector function of every command: the module's targets (module.yaml `targets:`, "all" = every
// target) narrowed by --hosts. Every --hosts term must match a target (a typo must not shrink a run
// silently); the terms that name hosts of other modules are left out, and an empty result is an error.
Result<std::vector<Host>> module_hosts(const Module& module, const std::vector<Host>& targets,
                                       std::string_view cli_selector);

class Run {
 public:
  // Loads everything and opens logs/<UTC>-<command>.log. Every input problem is an error of kind Input or
  // Usage (exit 2), found before any host is contacted.
  static Result<std::unique_ptr<Run>> open(const GlobalOptions& options, std::string_view command,
                                           NeedsModules needs);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  const GlobalOptions& options() const { return options_; }
  const std::vector<Host>& targets() const { return targets_; }  // --env rows minus the orchestrator
  const Settings& settings() const { return settings_; }
  const std::vector<Module>& modules() const { return modules_; }
  // A module by number, its versions rendered with the settings in force; Usage error when there is none.
  Result<const Module*> module(int number) const;
  // The next module after `number` this binary has (0 = none), for reports and SUIVI.
  const Module* next_module(int number) const;

  // The ONE selector function: the module's targets, narrowed by --hosts. Empty = a Usage error naming why.
  Result<std::vector<Host>> hosts_for(const Module& module) const;
  // Every target narrowed by --hosts (exec).
  Result<std::vector<Host>> selected_hosts() const;

  // Apply: one apply per working folder at a time (two would race on the hosts and on credentials/). Taking
  // it twice in one run (a chain) is fine.
  Result<void> lock_workdir(const std::string& what, std::string* warning);

  Result<Connection*> connect(const Host& host);
  // A brand-new session, proving the host still accepts us (after a handler reloaded sshd). sshd re-executes
  // itself on reload and refuses connections for an instant: a few spaced tries tell "restarting" from
  // "locked out".
  Result<Connection*> reconnect(const Host& host);
  TransportStats transport_stats() const;
  const std::filesystem::path& log_path() const { return log_path_; }
  // The log path relative to the workdir (what run records and archives name).
  std::string log_relative() const;
  // A new run log for the next command of a chain (apply --all: one log per module apply and verify).
  Result<void> open_log(std::string_view command);

 private:
  explicit Run(const GlobalOptions& options);
  GlobalOptions options_;
  Inventory inventory_;
  std::vector<Host> targets_;
  Settings settings_;
  std::vector<Module> modules_;
  std::optional<WorkdirLock> workdir_lock_;
  std::unique_ptr<SessionPool> pool_;
  std::filesystem::path log_path_;
};

}  // namespace kbz
