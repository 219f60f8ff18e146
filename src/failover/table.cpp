// The table of failover scenarios: one row per kind, each scenario in its own file of this folder (built on
// acked_writes.hpp where it writes through a load balancer). module.yaml `failover:` names a kind.
#include "kbz/failover/galera_node_kill.hpp"
#include "kbz/failover/galera_rolling_restart.hpp"
#include "kbz/failover/k8s_control_plane_loss.hpp"
#include "kbz/failover/k8s_worker_loss.hpp"
#include "kbz/failover/minio_node_failover.hpp"
#include "kbz/failover/patroni_failover.hpp"
#include "kbz/failover/rabbitmq_quorum_failover.hpp"
#include "kbz/failover/redis_sentinel_failover.hpp"
#include "kbz/verify/failover.hpp"

namespace kbz {

void register_builtin_failovers(FailoverRegistry& r) {
  r.add(kRedisSentinelFailoverKind, run_redis_sentinel_failover);
  r.add(kMinioNodeFailoverKind, run_minio_node_failover);
  r.add(kRabbitmqQuorumFailoverKind, run_rabbitmq_quorum_failover);
  r.add(kPatroniFailoverKind, run_patroni_failover);
  r.add(kGaleraNodeKillKind, run_galera_node_kill);
  r.add(kGaleraRollingRestartKind, run_galera_rolling_restart);
  r.add(kK8sControlPlaneLossKind, run_k8s_control_plane_loss);
  r.add(kK8sWorkerLossKind, run_k8s_worker_loss);
}

}  // namespace kbz
