// Failover scenario `k8s-worker-loss` (module 9): one worker lost the way a dead node is. The first control
// plane first starts a workload of its own (namespace kbz-failover-<run>: pinned busybox pods spread over the
// workers, tolerating an unreachable node 10 s instead of the default 300 s); the victim is the last worker
// of the inventory that runs one of those pods. On it, kubelet stops, then every pod sandbox (crictl stopp:
// the containerd unit's KillMode=process would leave the containers, the hostNetwork ingress among them,
// running), then containerd. While it is down, the first control plane probes ingress-nginx's /healthz on
// port 80 of every other worker each second, and watches the node turn NotReady and the workload's pods come
// back ready on the other workers. Then containerd and kubelet start again: the node must be Ready and its
// ingress answer again. Everything goes through the kbz-k8s helper the module installs.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kK8sWorkerLossKind = "k8s-worker-loss";

FailoverResult run_k8s_worker_loss(VerifyContext& ctx);

// --- pure pieces, unit-tested against fixtures ---

// One line of `kbz-k8s spread-pods` (spread-pods.jq over the workload's PodList):
// "pods=6 ready=5 terminating=1 ready_nodes=k8s-worker-01,k8s-worker-02,...".
struct SpreadPods {
  bool parsed = false;
  int pods = 0;
  int ready = 0;        // Ready condition True and not being deleted
  int terminating = 0;  // deletionTimestamp set (evicted from a lost node: stays until its kubelet confirms)
  std::vector<std::string> ready_nodes;  // the nodes of the ready pods, one entry per pod
  bool runs_on(const std::string& node) const;
  // Every wanted replica ready again, none of them on `lost`.
  bool rescheduled_off(const std::string& lost, int replicas) const;
};
SpreadPods parse_spread_pods(std::string_view output);

// One line of `kbz-k8s nodes` (nodes-ready.jq): "nodes=8 ready=7 versions=v1.30.14 notready=k8s-worker-03".
struct NodesReady {
  bool parsed = false;
  int nodes = 0;
  int ready = 0;
  std::vector<std::string> notready;
  bool is_ready(const std::string& node) const;  // parsed, and not listed NotReady
  bool all_ready() const { return parsed && nodes > 0 && ready == nodes && notready.empty(); }
};
NodesReady parse_nodes_ready(std::string_view output);

// `kbz-k8s healthz IP...`: one "IP ok|fail" line per address. A round is answered when every address asked
// says ok (an address missing from the output counts as failing).
struct HealthzRound {
  int answered = 0;
  std::vector<std::string> failing;
  bool all_answered() const { return failing.empty(); }
};
HealthzRound parse_healthz_round(std::string_view output, const std::vector<std::string>& ips);

}  // namespace kbz
