# shellcheck shell=bash
# Shared frame of the lab CI scripts (ci-module*.sh): named assertions, a summary line, artefacts kept in
# build/<name>/, and the lab always taken down. Sourced after common.sh, engine.sh and kbz.sh.
#   ci_begin NAME     start (sets the EXIT trap); prints "NAME: N passed, N failed" last
#   check TITLE CMD   one named assertion; the first failure ends the run (later ones depend on it)

ci_begin() {
  CI_NAME=$1
  CI_ARTEFACTS="$REPO_TOP/build/$1"
  ci_passed=0 ci_failed=0 ci_current="setup"
  trap ci_finish EXIT
}

ci_finish() {
  local rc=$?
  if ((rc != 0)); then
    ((ci_failed += 1))
    warn "$CI_NAME failed at: $ci_current (exit $rc)"
    show_kbz_logs
  fi
  rm -rf "$CI_ARTEFACTS"; mkdir -p "$CI_ARTEFACTS"
  # Artefacts for a human, never the generated secrets.
  [ -d "$KBZ_WORKDIR" ] && (cd "$KBZ_WORKDIR" && tar cf - --exclude=./credentials . 2>/dev/null) | tar xf - -C "$CI_ARTEFACTS" || true
  "$LAB_SRC/lab.sh" down || warn "lab down failed"
  echo "$CI_NAME: $ci_passed passed, $ci_failed failed"
  exit "$rc"
}

check() {
  ci_current=$1; shift
  local t0=$SECONDS
  log "$ci_current"
  "$@"
  ((ci_passed += 1))
  info "ok ($((SECONDS - t0)) s)"
}

# lab_hosts: how many servers of the lab a module run must report on (not install-01).
lab_hosts() { awk -F'\t' 'NR > 1 && $8 != "orchestrator"' "$LAB_DIR/servers.tsv" | wc -l; }

# assert_json FILE ZERO_CHANGES: every lab server reports, none failed; with true also nothing changed.
assert_json() {
  local file=$1 zero_changes=$2 n; n=$(lab_hosts)
  jq -e --argjson n "$n" --argjson z "$zero_changes" '
    (.hosts | length) == $n and all(.hosts[]; .failed == 0 and (($z | not) or .changed == 0))' "$file" >/dev/null \
    || { warn "$file does not show $n hosts with failed=0${zero_changes/true/ and changed=0}:";
         jq -c '.hosts[] | {host, ok, changed, failed, skipped}' "$file" >&2 || cat "$file" >&2; return 1; }
}

# apply_json MODULE FILE: apply with the JSON summary kept for assert_json.
apply_json() { kbz apply --module "$1" --json >"$2"; }
