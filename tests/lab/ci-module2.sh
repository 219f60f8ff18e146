#!/usr/bin/env bash
# CI for module 2 on the lab (profile base): plan, apply, a second apply that must change nothing,
# verify + French report, and a login after SSH hardening and UFW. The lab is always torn down.
# Prints "N passed, N failed" last. KBZ_BIN: binary to test (default build/kbz-install, built if missing).
# Artefacts (kbz logs, reports, JSON) are copied to build/lab-ci-module2/ before the lab goes down.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
cd "$REPO_TOP"
need_root

ARTEFACTS="$REPO_TOP/build/lab-ci-module2"
passed=0 failed=0 current="setup"

finish() {
  local rc=$?
  if ((rc != 0)); then
    ((failed += 1))
    warn "module 2 lab CI failed at: $current (exit $rc)"
    show_kbz_logs
  fi
  rm -rf "$ARTEFACTS"; mkdir -p "$ARTEFACTS"
  [ -d "$KBZ_WORKDIR" ] && cp -a "$KBZ_WORKDIR/." "$ARTEFACTS/" 2>/dev/null || true
  "$here/lab.sh" down || warn "lab down failed"
  echo "module2-lab: $passed passed, $failed failed"
  exit "$rc"
}
trap finish EXIT

# check NAME CMD...: one named assertion; the first failure ends the run (later ones depend on it).
check() {
  current=$1; shift
  local t0=$SECONDS
  log "$current"
  "$@"
  ((passed += 1))
  info "ok ($((SECONDS - t0)) s)"
}

[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages   # jq is one of the lab's host packages

check "lab up (profile base)" "$here/lab.sh" up --profile base
rm -rf "$KBZ_WORKDIR"; mkdir -p "$KBZ_WORKDIR"
n_hosts=$(awk -F'\t' 'NR > 1 && $8 != "orchestrator"' "$LAB_DIR/servers.tsv" | wc -l)

# Every lab server reports, none failed; with --want-zero-changes also nothing changed.
assert_json() {
  local file=$1 zero_changes=$2
  jq -e --argjson n "$n_hosts" --argjson z "$zero_changes" '
    (.hosts | length) == $n and all(.hosts[]; .failed == 0 and (($z | not) or .changed == 0))' "$file" >/dev/null \
    || { warn "$file does not show $n_hosts hosts with failed=0${zero_changes/true/ and changed=0}:";
         jq -c '.hosts[] | {host, ok, changed, failed, skipped}' "$file" >&2 || cat "$file" >&2; return 1; }
}

apply_json() { kbz apply --module 2 --json >"$1"; }

check "plan --module 2 exits 0" kbz plan --module 2
check "apply --module 2 (first run)" apply_json "$KBZ_WORKDIR/a1.json"
check "first apply: no host failed" assert_json "$KBZ_WORKDIR/a1.json" false
check "apply --module 2 (second run)" apply_json "$KBZ_WORKDIR/a2.json"
check "second apply: changed 0 on every host" assert_json "$KBZ_WORKDIR/a2.json" true
check "verify --module 2 exits 0" kbz verify --module 2
check "French report written" test -s "$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE2.md"
check "login still works after SSH hardening and UFW" kbz exec -- true
