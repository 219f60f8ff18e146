// Failover scenario `patroni-failover` (module 3): a client on a standby commits numbered rows through
// HAProxy 5432 (acked_writes.hpp: a row counts once psql's COMMIT returned, i.e. once the synchronous standby
// has it); the leader's patroni container is hard-killed (docker kill); time until a commit through HAProxy
// works again; the old leader started again must come back as a replica (pg_rewind when needed); then a
// planned switchover under the same kind of writer (the pause in acknowledged commits); every acknowledged
// row read back through HAProxy. Talks to hosts only through Connection (psql runs in the nodes' containers).
#pragma once
#include <string>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kPatroniFailoverKind = "patroni-failover";

FailoverResult run_patroni_failover(VerifyContext& ctx);

}  // namespace kbz
