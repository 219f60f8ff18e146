#!/usr/bin/env bash
# CI for module 6 (MinIO distributed, 3 nodes) on the lab (profile minio: minio-01..03). MinIO cannot be had
# here (no Debian package, no registry), so this CI is plan-only on the servers plus what the report says:
# module 2 first (Docker, UFW), then `plan --module 6` on the servers (the erasure layout computed ON the
# hosts by the module's own script, every file with its diff, the images, the container after them), a plan
# with 4 drives per node (EC:4 over 12 drives), a plan on an inventory of one MinIO node (refused: no
# redundancy, saying what it gives), a plan with applications (minio.apps: one user, secret and policy each)
# and a migration from the old node (minio.migrate_from), refusals of a bad application, and `verify --module 6 --failover`: every check and the failover
# scenario reported "non testé dans le lab" with its reason, never a pass, and the module's standing warnings
# (CVE-2025-62506, community edition unmaintained, ≥ 4 nodes) in "Points d'Attention". No stand-in service.
# What MinIO outputs (mc admin info --json, health headers) is proven by tests/unit/minio_module_test.cpp.
# Standalone (`make ci-module6`): its own lab (profile minio), module 2 on it, taken down at the end. Inside
# the shared lab (ctest, LAB_CI_FIXTURE=1): the running `ci` lab, its own servers only, leaves the lab up.
# Prints "lab-ci-module6: N passed, N failed" last; artefacts in build/lab-ci-module6/ (no credentials).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module6
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

ci_lab minio
# The lab's kbz.yaml names an image bundle (Debian-built service images): it holds no MinIO, so the image steps
# plan a pull, as on a real install with no bundle entry for MinIO.
check "lab image bundle present (it has no MinIO image: none can be built here)" "$here/lab.sh" images redis
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE6.md"

plan_on_servers() {
  kbz plan --module 6 >"$CI_WORK/plan6.txt"
  local f
  for f in /etc/kbz/minio/root-user /etc/kbz/minio/root-password /etc/kbz/minio/mc/config.json \
           /usr/local/sbin/kbz-minio-cli /usr/local/sbin/kbz-minio-parse /usr/local/lib/kbz/minio-info.jq; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan6.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  # The layout script ran on every host in the plan's check exec and accepted 3 × 1 drive (EC:1).
  if grep -E "minio-layout" "$CI_WORK/plan6.txt" | grep -q "check not met"; then
    warn "the plan refused the 3-node layout"; return 1
  fi
  grep -q "~ minio-container: runs once the steps before it ran" "$CI_WORK/plan6.txt" ||
    { warn "plan does not show the minio container after its image"; return 1; }
  # The helper runs mc from the pinned image the image step puts on the host.
  grep -qF "IMAGE='minio/mc:RELEASE.2024-10-02T08-27-28Z'" "$CI_WORK/plan6.txt" ||
    { warn "kbz-minio-cli does not name the pinned mc image"; return 1; }
  grep -qF "minio/minio:RELEASE.2024-10-02T17-50-41Z" "$CI_WORK/plan6.txt" ||
    { warn "plan does not name the pinned MinIO release"; return 1; }
  # minio-0N already resolve to the private addresses here (the lab's DNS): minio-names has nothing to do.
  if grep -q "~ minio-names:" "$CI_WORK/plan6.txt"; then warn "minio-0N do not resolve to the private IPs"; return 1; fi
}
check "plan --module 6 after module 2: exit 0, layout accepted on the hosts, every file with its diff" plan_on_servers

# plan changes nothing, credentials included: no MinIO root key generated (apply generates them, 0600).
plan_writes_no_credential() {
  [ ! -e "$KBZ_WORKDIR/credentials/minio.env" ] || { warn "plan wrote credentials/minio.env"; return 1; }
  grep -q '"accessKey": "(secret' "$CI_WORK/plan6.txt" || { warn "the mc config's keys are not masked in the plan"; return 1; }
}
check "plan writes no credential and masks the keys in the rendered mc config" plan_writes_no_credential

plan_four_drives() {
  sed '/^minio:/,/^[^ ]/d' "$LAB_DIR/kbz.yaml" >"$CI_WORK/kbz-4drives.yaml"
  printf 'minio:\n  drives: "/opt/keybuzz/minio/data{1...4}"\n' >>"$CI_WORK/kbz-4drives.yaml"
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-4drives.yaml" plan --module 6 >"$CI_WORK/plan6-4drives.txt"
  if grep -E "minio-layout" "$CI_WORK/plan6-4drives.txt" | grep -q "check not met"; then
    warn "3 × 4 drives refused"; return 1
  fi
}
check "plan with minio.drives data{1...4}: accepted on the hosts (12 drives, EC:4)" plan_four_drives

plan_one_node_refused() {
  awk -F'\t' 'NR == 1 || $3 != "minio-02" && $3 != "minio-03"' "$LAB_DIR/servers.tsv" >"$CI_WORK/servers-1node.tsv"
  kbz_with "$CI_WORK/servers-1node.tsv" "$LAB_DIR/kbz.yaml" plan --module 6 >"$CI_WORK/plan6-1node.txt" || true
  grep -F "minio-layout" "$CI_WORK/plan6-1node.txt" >&2 || true
  grep -qF "minio-layout: check not met (exit 1: refusé, sans redondance : 1 nœud(s) × 1 disque(s), aucun jeu d'effacement)" \
    "$CI_WORK/plan6-1node.txt"
}
drives_outside_refused() {
  sed '/^minio:/,/^[^ ]/d' "$LAB_DIR/kbz.yaml" >"$CI_WORK/kbz-baddrives.yaml"
  printf 'minio:\n  drives: /data\n' >>"$CI_WORK/kbz-baddrives.yaml"
  local rc=0
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-baddrives.yaml" plan --module 6 >"$CI_WORK/plan6-bad.txt" 2>&1 || rc=$?
  ((rc == 2)) && grep -q "minio.drives" "$CI_WORK/plan6-bad.txt"
}
check "minio.drives outside /opt/keybuzz/minio/data* is refused by the kbz.yaml reader (exit 2)" drives_outside_refused

check "plan on one MinIO node: layout refused, saying it gives no redundancy" plan_one_node_refused

# kbz.yaml with two applications and a migration from the old single node: the plan shows their steps.
apps_config() {
  sed '/^minio:/,/^[^ ]/d' "$LAB_DIR/kbz.yaml" >"$1"
  cat >>"$1" <<EOF
minio:
  buckets: [keybuzz-backups, keybuzz-media]
  apps:
    - "billing=keybuzz-backups:rw,keybuzz-media:ro"
    - "reporting=${2:-keybuzz-media}:ro"
  migrate_from:
    endpoint: "http://10.0.0.134:9000"
EOF
}
plan_apps_and_migration() {
  apps_config "$CI_WORK/kbz-apps.yaml"
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-apps.yaml" plan --module 6 >"$CI_WORK/plan6-apps.txt"
  if grep -E "minio-apps-spec" "$CI_WORK/plan6-apps.txt" | grep -q "check not met"; then
    warn "minio.apps refused though its buckets are in minio.buckets"; return 1
  fi
  # The secrets file goes to minio-01 only (it runs the mc admin steps), 0600, its lines masked.
  [ "$(grep -cF -- "+++ /etc/kbz/minio/mc/apps.secrets (rendered)" "$CI_WORK/plan6-apps.txt")" = 1 ] ||
    { warn "apps.secrets is not planned on exactly one host"; return 1; }
  grep -A4 -F -- "+++ /etc/kbz/minio/mc/apps.secrets (rendered)" "$CI_WORK/plan6-apps.txt" | grep -q "(secret" ||
    { warn "the application secrets are not masked in the plan"; return 1; }
  if grep -E '^\+(billing|reporting) ' "$CI_WORK/plan6-apps.txt" | grep -vq "(secret"; then
    warn "an application secret line is not masked in the plan"; return 1
  fi
  local step
  for step in minio-apps minio-migrate; do
    grep -qF "~ $step:" "$CI_WORK/plan6-apps.txt" || { warn "plan does not show $step"; return 1; }
  done
  # The migration alias "old" is rendered into the mc config with the endpoint, its keys masked.
  grep -qF '"url": "http://10.0.0.134:9000"' "$CI_WORK/plan6-apps.txt" || { warn "no old alias in the mc config"; return 1; }
  # Without minio.migrate_from the mc config has no old alias.
  if grep -qF '"old": {' "$CI_WORK/plan6.txt"; then warn "old alias rendered without minio.migrate_from"; return 1; fi
  [ ! -e "$KBZ_WORKDIR/credentials/minio-apps.env" ] || { warn "plan wrote credentials/minio-apps.env"; return 1; }
}
check "plan with minio.apps and minio.migrate_from: the application and migration steps show, secrets only on minio-01 and masked" plan_apps_and_migration

plan_app_bucket_refused() {
  apps_config "$CI_WORK/kbz-apps-bad.yaml" keybuzz-unknown
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-apps-bad.yaml" plan --module 6 >"$CI_WORK/plan6-apps-bad.txt" || true
  grep -F "minio-apps-spec" "$CI_WORK/plan6-apps-bad.txt" >&2 || true
  grep -qF "minio-apps-spec: check not met (exit 1: refusé : reporting demande le bucket keybuzz-unknown, absent de minio.buckets)" \
    "$CI_WORK/plan6-apps-bad.txt"
}
check "plan with an application on a bucket outside minio.buckets: refused on the hosts, naming it" plan_app_bucket_refused

apps_shape_refused() {
  sed '/^minio:/,/^[^ ]/d' "$LAB_DIR/kbz.yaml" >"$CI_WORK/kbz-apps-shape.yaml"
  printf 'minio:\n  apps: ["billing=keybuzz-backups:admin"]\n' >>"$CI_WORK/kbz-apps-shape.yaml"
  local rc=0
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-apps-shape.yaml" plan --module 6 >"$CI_WORK/plan6-apps-shape.txt" 2>&1 || rc=$?
  ((rc == 2)) && grep -q "kbz-apps-shape.yaml:.*minio.apps" "$CI_WORK/plan6-apps-shape.txt"
}
check "minio.apps item that is not name=bucket:rw|ro is refused by the kbz.yaml reader (exit 2, file:line)" apps_shape_refused

report_honest() {
  kbz verify --module 6 --failover
  [ -f "$report" ] || { warn "no $report"; return 1; }
  local id
  for id in minio-layout minio-container-running minio-live minio-write-quorum minio-read-quorum \
            minio-admin-info minio-roundtrip minio-buckets minio-apps-keys minio-apps-access minio-migration \
            minio-secrets-not-in-env version-minio; do
    grep -qF "(\`$id\`) : **non testé dans le lab**" "$report" || { warn "$id not said non testé dans le lab"; return 1; }
  done
  grep -q "Bascule .*: \*\*non testé dans le lab\*\*" "$report" || { warn "failover not said non testé"; return 1; }
  grep -q "CVE-2025-62506" "$report" || { warn "no CVE-2025-62506 in the report"; return 1; }
  grep -q "n'est plus maintenue" "$report" || { warn "community edition status missing"; return 1; }
  grep -q "au moins 4 nœuds" "$report" || { warn "≥ 4 nodes recommendation missing"; return 1; }
  if grep -q "✅ .*minio" "$report"; then warn "a MinIO check is reported as passed in the lab"; return 1; fi
}
check "verify --module 6 --failover: every check and the failover non testé dans le lab, points d'attention" report_honest
