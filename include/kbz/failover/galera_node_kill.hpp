// Failover scenario `galera-node-kill` (module 7): a client on one Galera node commits numbered rows to that
// node (acked_writes.hpp: an INSERT in autocommit, acknowledged once COMMIT returned); another node's
// `mariadb` container is hard-killed (docker kill); writes must go on; the killed node is started again and
// must come back Synced in the 3-node Primary component (IST from the gcache); every acknowledged row is read
// back from EVERY node. Talks to hosts only through Connection (kbz-galera-cli on the nodes).
#pragma once
#include <string>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kGaleraNodeKillKind = "galera-node-kill";

FailoverResult run_galera_node_kill(VerifyContext& ctx);

}  // namespace kbz
