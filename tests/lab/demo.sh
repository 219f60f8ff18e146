#!/usr/bin/env bash
# `make demo`: from a fresh Debian 12 to every module the lab can run applied and verified on the lab fleet.
#   deps (scripts/install-deps.sh) -> build (cmake/ninja, build/) -> lab up (profile full: the servers of
#   modules 2, 3, 4, 5, 7, 8) + every service image in the air-gap bundle -> apply --all --failover (each
#   module in order: apply, then verify with its failover tests) -> status (SUIVI_INSTALLATION_V2.md)
# Modules whose software the lab cannot have (6 MinIO, 9 Kubernetes) have no server in this profile and are
# skipped by the chain; their lab CI proves their plan (make ci-module6, ci-module9).
# DEMO_PROFILE=redis gives a smaller, faster demo (modules 2 and 4).
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
profile=${DEMO_PROFILE:-full}
log "lab up (profile $profile)"
"$here/lab.sh" up --profile "$profile"
log "service images (built from Debian's packages, saved in the lab's air-gap bundle)"
"$here/lab.sh" images

mkdir -p "$KBZ_WORKDIR"
where() {
  cat <<MSG

Lab fleet:     $LAB_DIR/servers.tsv   (tests/lab/lab.sh status | ssh HOST | down)
Logs:          $KBZ_WORKDIR/logs
Reports:       $KBZ_WORKDIR/reports   (RAPPORT_VALIDATION_MODULE<N>.md; tests/lab/sample-reports.sh copies them
               into reports/lab/)
Suivi:         $KBZ_WORKDIR/SUIVI_INSTALLATION_V2.md
Same command:  $KBZ_BIN --inventory $LAB_DIR/servers.tsv --config $LAB_DIR/kbz.yaml \\
                 --known-hosts $LAB_DIR/known_hosts --identity $LAB_DIR/ssh/id_ed25519 --workdir $KBZ_WORKDIR ...
MSG
}
# shellcheck disable=SC2154  # rc is set inside the trap
trap 'rc=$?; ((rc == 0)) || { warn "demo failed (exit $rc)"; show_kbz_logs; }; where' EXIT

log "kbz-install apply --all --failover (every module in order: apply, then verify with its failover tests)"
kbz apply --all --failover
log "kbz-install status"
kbz status
