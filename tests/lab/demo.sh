#!/usr/bin/env bash
# `make demo`: from a fresh Debian 12 to modules 2 and 4 applied and verified on the lab fleet.
#   deps (scripts/install-deps.sh) -> build (cmake/ninja, build/) -> lab up (profile redis: redis-01..03,
#   haproxy-01/02) + redis/haproxy images in the air-gap bundle -> apply + verify module 2
#   -> apply + verify --failover module 4 -> status
# Safe to re-run: every stage skips what is already done, and apply is idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/kbz.sh"
cd "$REPO_TOP"

need_root
log "dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh
log "building kbz-install (build/)"
build_kbz
log "lab up (profile redis)"
"$here/lab.sh" up --profile redis
log "service images for module 4 (built from Debian's packages, saved in the lab's air-gap bundle)"
"$here/lab.sh" images redis haproxy

mkdir -p "$KBZ_WORKDIR"
where() {
  cat <<MSG

Lab fleet:     $LAB_DIR/servers.tsv   (tests/lab/lab.sh status | ssh HOST | down)
Logs:          $KBZ_WORKDIR/logs
Reports:       $KBZ_WORKDIR/reports   (RAPPORT_VALIDATION_MODULE2.md, RAPPORT_VALIDATION_MODULE4.md)
Suivi:         $KBZ_WORKDIR/SUIVI_INSTALLATION_V2.md
Same command:  $KBZ_BIN --inventory $LAB_DIR/servers.tsv --config $LAB_DIR/kbz.yaml \\
                 --known-hosts $LAB_DIR/known_hosts --identity $LAB_DIR/ssh/id_ed25519 --workdir $KBZ_WORKDIR ...
MSG
}
# shellcheck disable=SC2154  # rc is set inside the trap
trap 'rc=$?; ((rc == 0)) || { warn "demo failed (exit $rc)"; show_kbz_logs; }; where' EXIT

log "kbz-install apply --module 2"
kbz apply --module 2
log "kbz-install verify --module 2"
kbz verify --module 2
log "kbz-install apply --module 4 (Redis + Sentinel + HAProxy)"
kbz apply --module 4
log "kbz-install verify --module 4 --failover (stops the Redis master, measures the failover)"
kbz verify --module 4 --failover
log "kbz-install status"
kbz status
