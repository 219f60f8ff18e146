// How one host is worked on (ARCHITECTURE.md, "How a host is worked on"): one exec takes the host lock,
// gathers facts and runs every check; decisions are local; each change is one exec and is followed by one
// exec re-running the remaining checks; handlers of changed steps run at the end; the lock is released by the
// last exec when nothing follows it (a no-op host's checks, the last change), else by one exec of its own.
#pragma once
#include <functional>
#include <string>

#include "kbz/engine/module.hpp"
#include "kbz/engine/preflight.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

enum class RunMode { Plan, Apply };

class RollingCoordinator;
enum class PreflightUse { Enforce, Skip };  // kbz/engine/rolling.hpp

// The per-host lock: `mkdir` is atomic, and /run is emptied at boot so a crashed run cannot wedge a host
// forever. The info file names the holder for the refusal message.
struct HostLock {
  std::string path = "/run/kbz-install.lock";
  std::string run_id;
  std::string installer;  // this machine's hostname
  long pid = 0;
  std::string started_utc;
};
std::string host_lock_prelude(const HostLock& lock);  // exits 73 when another run holds the lock
std::string host_lock_release(const HostLock& lock);  // removes it only if this run holds it
inline constexpr int kHostLockedExit = 73;

// Progress callbacks; called from the host's worker thread.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void activity(const Host&, const std::string& /*label*/) {}  // "" = idle
  virtual void step_finished(const Host&, const StepResult&) {}
  virtual void host_error(const Host&, const std::string& /*text*/) {}  // unreachable, lock held, ...
};

struct HostJob {
  const Module* module = nullptr;
  TemplateContext context;  // host, settings, credentials, all_hosts; facts are gathered by the run
  RunMode mode = RunMode::Apply;
  std::string from_step;  // steps before it are skipped (validated by the caller)
  HostLock lock;          // taken in Apply only
  // Apply: the last apply of this module changed nothing and succeeded, so this one is expected to be a
  // no-op: the first exec releases the host lock at its end, and a host whose checks then ask for a change
  // takes the lock again with fresh checks (one more exec) before changing anything. false: the first exec
  // keeps the lock, which the last exec of the host releases (or one release exec). The preflight only
  // guards changes: it runs in the exec that takes the lock for them (the first, or that second one).
  bool expect_no_op = false;
  // Opens a brand-new session for handlers with `reconnect: true` (SessionPool::reconnect).
  std::function<Result<Connection*>()> reconnect;
  RunObserver* observer = nullptr;
  // Apply: shared by every host of the run when the module has `rolling:` steps; null = no coordination
  // (each host changes on its own). The host leaves every rolling step it has not passed, whatever happens.
  RollingCoordinator* rolling = nullptr;
  // Apply: read-only preflight checks sent with the first checks (same exec); a failed one refuses the host
  // before anything changes, unless the operator said --skip-preflight.
  std::vector<PreflightItem> preflight;
  PreflightUse preflight_use = PreflightUse::Enforce;
};

// Never throws; every problem ends up in the HostRun (error, unreachable, failed step).
HostRun run_host(Connection& connection, const HostJob& job);

// A `hosts:` selector (comma-separated terms, any may match; empty = every host).
bool selector_matches(const std::string& selector, const Host& host);
// Step `hosts:` selector and `when:` for this host.
bool step_applies(const Step& step, const Host& host, const Facts& facts,
                  const std::map<std::string, std::string>& settings = {});
bool converge_applies(const ConvergeCheck& check, const Host& host);

}  // namespace kbz
