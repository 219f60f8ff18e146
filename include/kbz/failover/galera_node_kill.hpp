// Failover scenario `galera-node-kill` (module 7): a client (on the second Galera node) commits numbered rows
// to the first node, the node written to (acked_writes.hpp: an INSERT in autocommit, acknowledged once COMMIT
// returned); THAT node's `mariadb` container is hard-killed (docker kill); the client sends each row the
// written-to node does not take to the next node in order, as ProxySQL moves its writer hostgroup to a backup
// writer, and writes must resume there; the killed node is started again and must come back Synced in the
// 3-node Primary component (IST from the gcache); every acknowledged row is read back from EVERY node, and
// each row says which node took it. Talks to hosts only through Connection (kbz-galera-cli on the nodes).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kGaleraNodeKillKind = "galera-node-kill";

FailoverResult run_galera_node_kill(VerifyContext& ctx);

// --- shared with galera-rolling-restart (module 8) ---
inline constexpr const char* kGaleraCli = "/usr/local/sbin/kbz-galera-cli";

// One Galera node of a scenario, reached through its connection (root).
struct GaleraNode {
  Host host;
  Connection* conn = nullptr;
  Result<ExecResult> run(const std::string& command, Millis timeout = Millis{60000}) const {
    return conn->run({command, "", Privilege::Root, timeout});
  }
  // `kbz-galera-cli status`: one line of name=value words ("" when unreadable).
  std::string status() const;
  // Synced, in the Primary component, cluster_size 3.
  bool synced_in_three() const;
};

// The last lines of a command's output (or its error), masked: the "why" of a failed step in a report.
std::string galera_output_tail(const Result<ExecResult>& r);

// The client's write of row "$1" (AckedWriterSpec::write): tried on each node in order (2 s connect
// timeout), the row naming the node that took it; exits 0 only once one node committed it.
std::string galera_write_script(const std::string& cli, const std::vector<std::string>& nodes,
                                const std::string& table);
// "maria-01 → maria-02 → maria-03"
std::string galera_write_order(const std::vector<std::string>& nodes);
// `SELECT node, COUNT(*) ... GROUP BY node` (mariadb -N -B: tab-separated) -> (node, rows); other lines
// ignored.
std::vector<std::pair<std::string, long>> parse_rows_by_node(const std::string& output);

}  // namespace kbz
