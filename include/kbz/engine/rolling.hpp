// Rolling restarts (step `rolling:`, ARCHITECTURE.md): hosts are worked on in parallel, but the change of an
// EXISTING container in a rolling step is made one host at a time across the run: hosts whose primary_check
// fails (replicas) first in inventory order, the primary last, each one ready before the next goes; one
// failure stops the hosts still waiting. One coordinator per apply run, shared by every host's worker thread.
#pragma once
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {

bool has_rolling_step(const Module& module);

// What a host that needs a rolled change is told once it may go (or may not).
struct RollingTurn {
  enum class Outcome { Go, Stopped, Interrupted };
  Outcome outcome = Outcome::Go;
  int position = 0, total = 0;  // Go: 1-based place in the order, and how many hosts roll
  bool primary = false;         // Go: this host's primary_check passed (run before_primary first)
  std::string after;            // Go: the host that changed just before, "" for the first
  std::string why;              // Stopped: e.g. "rolling stopped: redis-02 failed at redis-container"
  std::string ranks;            // Go: "host=rank host=rank ..." of every host that rolls (inventory order)
};

// What a host says once every participant has arrived: primary (goes last) and rank (highest first).
struct RollingPlace {
  bool primary = false;
  long long rank = 0;
};

class RollingCoordinator {
 public:
  // `hosts`: every host of the run, inventory order. Each one takes part in every rolling step of `module`
  // until it arrives with a change (wait_turn) or leaves.
  RollingCoordinator(const Module& module, std::vector<std::string> hosts);
  ~RollingCoordinator();
  RollingCoordinator(const RollingCoordinator&) = delete;
  RollingCoordinator& operator=(const RollingCoordinator&) = delete;

  // A host whose change in `step_id` must be rolled. Blocks until every participant has arrived or left, then
  // calls is_primary() on THIS thread (the host's own connection: true = primary), waits until every waiting
  // host has answered, then until its turn. Wakes on Ctrl-C. An error from is_primary stops the rolling.
  RollingTurn wait_turn(const std::string& step_id, const std::string& host,
                        const std::function<Result<bool>()>& is_primary);
  // The same with a rank: non-primaries go highest rank first (stable: inventory order on ties).
  RollingTurn wait_turn_ranked(const std::string& step_id, const std::string& host,
                               const std::function<Result<RollingPlace>()>& place);
  // After the change (and `ready`) of a host that was told Go; ok=false stops every host still waiting.
  enum class Change { Done, Failed };
  void done(const std::string& step_id, const std::string& host, Change change);
  // Nothing to roll here, or dropping out (earlier failure, unreachable, step not for this host). Idempotent;
  // leaving while holding the turn counts as a failure (the change may be half made).
  void leave(const std::string& step_id, const std::string& host);
  void leave_all(const std::string& host);

 private:
  struct Gate;
  Gate* gate(const std::string& step_id);
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::unique_ptr<Gate>> gates_;
};

// Leaves every rolling step when destroyed: however a host's work ends, no other host waits for it.
class RollingLeave {
 public:
  RollingLeave(RollingCoordinator* coordinator, std::string host)
      : coordinator_(coordinator), host_(std::move(host)) {}
  ~RollingLeave() {
    if (coordinator_) coordinator_->leave_all(host_);
  }
  RollingLeave(const RollingLeave&) = delete;
  RollingLeave& operator=(const RollingLeave&) = delete;

 private:
  RollingCoordinator* coordinator_;
  std::string host_;
};

}  // namespace kbz
