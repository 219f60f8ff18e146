// Failover scenario `minio-node-failover` (module 6): a client on the first MinIO node keeps writing objects
// (acked_writes.hpp: a write is acknowledged once `mc pipe` got MinIO's 200) while another node's MinIO is
// hard-killed (docker kill); reads and writes must go on; the node started again must report the cluster
// healthy (write quorum) and its heal status is reported; every acknowledged object is read back with the
// content it was written with. Talks to hosts only through Connection (mc runs in its container on the
// nodes).
#pragma once
#include <string>
#include <vector>

#include "kbz/verify/failover.hpp"

namespace kbz {

inline constexpr const char* kMinioNodeFailoverKind = "minio-node-failover";

FailoverResult run_minio_node_failover(VerifyContext& ctx);

// --- pure pieces, unit-tested ---
// The write of item "$1" for the acked writer: `kbz-minio-cli put-item RUN "$1"` (object content kbz-RUN-ID).
std::string minio_put_item_script(const std::string& run_id);
// `kbz-minio-cli read-items RUN` prints the content of every object under the run's prefix: the ids whose
// content is exactly kbz-RUN-ID (anything else — a torn or foreign object — is not counted as present).
std::vector<long> minio_ids_read_back(const std::string& output, const std::string& run_id);

}  // namespace kbz
