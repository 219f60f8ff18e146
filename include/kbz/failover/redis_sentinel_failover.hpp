// Failover scenario `redis-sentinel-failover` (module 4): keys written through HAProxy, each confirmed on a
// replica with WAIT; then a client keeps writing through HAProxy (acked_writes.hpp, each write WAIT-ed) while
// the master's Redis is hard-killed (docker kill); the time until writes are acknowledged again; the old
// master restarted must rejoin as a replica; every confirmed key and acknowledged write read back through
// HAProxy. Talks to hosts only through Connection (redis-cli runs on the nodes).
#pragma once
#include <string>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kRedisSentinelFailoverKind = "redis-sentinel-failover";

FailoverResult run_redis_sentinel_failover(VerifyContext& ctx);

// --- pure pieces, unit-tested on real redis-cli output (tests/fixtures/redis/) ---

// redis-cli fed "SET k v" / "WAIT 1 T" / "ECHO kbz-sep-<i>" on stdin prints raw replies (an error reply is
// followed by an empty line). A key is confirmed when its SET replied OK and its WAIT counted >= 1 replica.
std::vector<std::string> confirmed_keys(const std::string& redis_cli_output,
                                        const std::vector<std::string>& keys);

// Replies to "GET k" lines: the keys whose value is not the expected one (missing = empty line).
std::vector<std::string> missing_keys(const std::string& redis_cli_output,
                                      const std::vector<std::string>& keys,
                                      const std::vector<std::string>& values);

// The stdin scripts: writes (SET + WAIT 1 timeout_ms + marker per key) and reads (GET + marker per key).
std::string waited_writes_script(const std::vector<std::string>& keys, const std::vector<std::string>& values,
                                 int timeout_ms);
std::string reads_script(const std::vector<std::string>& keys);

}  // namespace kbz
