// Failover scenario `galera-rolling-restart` (module 8): the three Galera nodes restarted one at a time, as
// module 8's rolled step `galera-tuning-live` does to take a tuning change (`kbz-galera-tune restart`: a
// clean docker restart, refused unless all three are Synced, then waited until the node is back Synced in the
// 3-node Primary component), the writer last (`kbz-galera-tune is-writer`), while a client on a ProxySQL node
// commits numbered rows through the application's path (`kbz-db-client`: ProxySQL in production; in the lab,
// where ProxySQL cannot run, a client that goes to the preferred writer then to the backup writers, as
// ProxySQL's Galera hostgroup does). Every acknowledged row is read back from every node; the longest pause
// in acknowledged writes is measured (goal: params.max_pause_s).
#pragma once
#include <string>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kGaleraRollingRestartKind = "galera-rolling-restart";

FailoverResult run_galera_rolling_restart(VerifyContext& ctx);

// The restart order: every node whose `is_writer` is false in inventory order, then the writer(s).
std::vector<size_t> rolling_restart_order(const std::vector<bool>& is_writer);

}  // namespace kbz
