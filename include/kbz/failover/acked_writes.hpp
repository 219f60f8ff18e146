// The shape every cluster module's failover test shares (design.md "failover scenario"): a client writing
// through the load balancer and recording each acknowledgement, a hard kill (`docker kill`), times measured
// from the kill, every acknowledged write read back. Modules say only how one write is made, how the rows
// are read back and which container to kill; src/failover/<module>_failover.cpp put it together.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

struct AckedWriterSpec {
  std::string run_id;  // unique per run: [a-z0-9]+, names the client's files (and the module's keys/rows)
  // One write of item "$1" (an integer counting from 1), as a shell script run on the client; it exits 0 only
  // once the write is acknowledged the way the module promises (committed, confirmed, WAIT-ed). Must never
  // hold a secret: helpers on the host read credentials from root-only files.
  std::string write;
  int interval_ms = 100;  // pause between two writes
  int attempt_timeout_s = 5;
};

struct WriteAttempt {
  long id = 0;
  long long start_ms = 0, end_ms = 0;  // the client's clock (ms since the epoch)
  bool acked = false;
};

// A writer running on one host (the client), in the background, from start() to stop().
class AckedWriter {
 public:
  // One exec: writes the script under /run/kbz-failover-<run_id>/ and starts the loop detached.
  static Result<AckedWriter> start(Connection& client, AckedWriterSpec spec);
  // Polls the client (one exec) until a write that STARTED after t_ms is acknowledged; its end time, or
  // nullopt after `timeout`.
  Result<std::optional<long long>> wait_ack_started_after(long long t_ms, Millis timeout);
  // Until `count` writes are acknowledged in all (one exec): the load before the kill.
  Result<void> wait_acks(long count, Millis timeout);
  // Stops the loop, reads every attempt back, removes the client's files.
  Result<std::vector<WriteAttempt>> stop();

 private:
  AckedWriter(Connection& client, AckedWriterSpec spec) : client_(&client), spec_(std::move(spec)) {}
  std::string dir() const;
  Connection* client_;
  AckedWriterSpec spec_;
};

// "ok|fail ID START END" lines of the writer's log.
std::vector<WriteAttempt> parse_attempts(const std::string& log);
// One integer per line (the module's read-back output); other lines are ignored.
std::vector<long> parse_ids(const std::string& output);

// A hard kill of `container` on `node` (docker kill: SIGKILL, no shutdown): the node's clock (ms) just
// before the kill, in the same exec.
Result<long long> hard_kill(Connection& node, const std::string& container);

// What the counting says. An id acknowledged and not read back is LOST; read twice is a duplicate (queues
// may redeliver); ids refused or unanswered may or may not be there (a write can commit without its answer).
struct WriteTally {
  size_t attempted = 0, acked = 0, refused = 0;
  size_t lost = 0, duplicates = 0;
  std::vector<long> lost_ids;                 // the first few
  std::optional<long long> resumed_after_ms;  // kill -> first ack of a write started after it
  long long longest_gap_ms = 0;               // longest time without an ack, from the first ack on
};
WriteTally count_back(const std::vector<WriteAttempt>& attempts, const std::vector<long>& present,
                      long long kill_ms);

// The French measures every scenario reports the same way ("Écritures acquittées", "Reprise des écritures",
// ...).
void add_write_measures(FailoverResult& result, const WriteTally& tally);

}  // namespace kbz
