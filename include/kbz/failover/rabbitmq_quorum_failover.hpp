// Failover scenario `rabbitmq-quorum-failover` (module 5): N persistent messages published through HAProxy
// to a quorum queue with publisher confirms; then a client keeps publishing through HAProxy
// (acked_writes.hpp, each publish confirmed) while the node that leads the queue is hard-killed (docker kill
// rabbitmq); the time until publishes are confirmed again; the node restarted must be running again with the
// queue back at three online members; every message consumed back through HAProxy and counted (0 confirmed
// lost, duplicates reported). Talks to hosts only through Connection (kbz-amqp, kbz-rabbitmqctl run there).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kRabbitmqQuorumFailoverKind = "rabbitmq-quorum-failover";

FailoverResult run_rabbitmq_quorum_failover(VerifyContext& ctx);

// --- pure pieces, unit-tested on real rabbitmqctl output (tests/fixtures/rabbitmq/) ---

struct QuorumQueueState {
  std::string leader;                // "rabbit@queue-02", "" when none
  std::vector<std::string> members;  // every member node
  std::vector<std::string> online;   // the members online now
};
// `rabbitmqctl -q list_queues -p VHOST name leader members online --formatter json` -> the named queue's
// state; nullopt when the output does not parse or the queue is not in it.
std::optional<QuorumQueueState> quorum_queue_state(const std::string& json, const std::string& queue);

// "rabbit@queue-02" -> "queue-02".
std::string node_host(const std::string& node);

// "ok N" lines of `kbz-amqp publish`: the confirmed message ids.
std::vector<long> confirmed_ids(const std::string& publish_output);

}  // namespace kbz
