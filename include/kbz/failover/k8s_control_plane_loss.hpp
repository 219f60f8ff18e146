// Failover scenario `k8s-control-plane-loss` (module 9): one control plane (the last of the inventory, never
// the first) loses its control plane the way a dead node does: its static pod manifests are moved out of
// /etc/kubernetes/manifests (kubelet then stops kube-apiserver, etcd, the scheduler and the controller
// manager; stopping kubelet alone would leave them running). While it is down, the first control plane
// probes the API through the load balancer (k8s.control_plane_endpoint) every second, writes through it
// (a ConfigMap: a write needs etcd quorum) and reads etcd's health (etcdctl endpoint health --cluster, from
// the etcd pod of the first control plane). Then the manifests go back and the member must be healthy again.
// Everything goes through the kbz-k8s helper the module installs (it knows the endpoint and the first
// control plane).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kK8sControlPlaneLossKind = "k8s-control-plane-loss";

FailoverResult run_k8s_control_plane_loss(VerifyContext& ctx);

// --- pure pieces, unit-tested against fixtures ---

// One line of `kbz-k8s etcd-health` (etcd-health.jq over `etcdctl endpoint health --cluster -w json`):
// "members=3 healthy=2 down=https://10.0.0.102:2379".
struct EtcdHealth {
  bool parsed = false;
  int members = 0;
  int healthy = 0;
  std::string down;  // comma-separated endpoints, "" when none
  // Raft quorum: a strict majority of the members answers.
  bool quorum() const { return parsed && members > 0 && healthy > members / 2; }
};
EtcdHealth parse_etcd_health(std::string_view output);

// The API probes during the outage, in order: (milliseconds since the control plane went down, answered).
struct ApiProbeTally {
  int total = 0;
  int answered = 0;
  Millis longest_gap{0};  // longest run of unanswered probes, from the first failure to the next answer
  bool answering_at_end = false;  // the last `tail` probes all answered (the load balancer dropped the node)
};
ApiProbeTally tally_api_probes(const std::vector<std::pair<Millis, bool>>& probes, int tail);

}  // namespace kbz
