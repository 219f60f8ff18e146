#!/usr/bin/env bash
# CI for module 4 (Redis + Sentinel + HAProxy) on the lab (profile redis: redis-01..03, haproxy-01/02):
# module 2 first (Docker, UFW), then module 4: plan with diffs, apply, a second apply that changes nothing,
# verify right after the first apply, verify --failover (hard kill of the master under a writer: 0 confirmed
# key or acknowledged write lost, writes through HAProxy again within the goal), a re-apply
# after the failover that still changes nothing, and the Redis password nowhere it must not be.
# Images come from the lab bundle (Debian's redis and haproxy packages), uploaded by the image step.
# Standalone (`make ci-module4`): its own lab (profile redis), module 2 on it, taken down at the end. Inside the
# shared lab (ctest, LAB_CI_FIXTURE=1, see lib/ci.sh): uses the running `ci` lab, module 2 already applied,
# touches only its own servers (module 4's targets = profile redis), leaves the lab up.
# Prints "lab-ci-module4: N passed, N failed" last; artefacts in build/lab-ci-module4/ (no credentials).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module4
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

# Standalone: lab down, up --profile redis, a fresh workdir, module 2 on its servers ("apply --module 2
# (Docker, UFW)", "module 2: no host failed"). Shared lab: the marker, its servers there, logins.
ci_lab redis
check "redis and haproxy images in the lab bundle" "$here/lab.sh" images redis haproxy
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE4.md"

plan_shows_files() {
  kbz plan --module 4 >"$CI_WORK/plan4.txt"
  local f
  for f in /opt/keybuzz/redis/conf/redis.conf /opt/keybuzz/redis/conf/sentinel.seed.conf \
           /opt/keybuzz/redis-lb/config/haproxy-redis.cfg; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan4.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  # Nothing installed yet: the plan still shows the containers (after the image steps), never a failure.
  grep -q "~ redis-container: runs once the steps before it ran" "$CI_WORK/plan4.txt" &&
    grep -q "~ haproxy-container: runs once the steps before it ran" "$CI_WORK/plan4.txt"
}
check "plan --module 4 on blank servers: exit 0, every file with its diff, containers after their images" plan_shows_files
check "apply --module 4 (first run)" apply_json 4 "$CI_WORK/a1.json"
# apply ends converged: verify right after it, with nothing in between, must pass.
check "verify --module 4 right after the first apply exits 0" kbz verify --module 4
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
check "apply --module 4 (second run)" apply_json 4 "$CI_WORK/a2.json"
check "second apply: changed 0 on every host" assert_json "$CI_WORK/a2.json" true

failover_ok() {
  kbz verify --module 4 --failover
  grep -q "Clés confirmées perdues : 0 / [1-9]" "$report" || { warn "confirmed keys lost (or none written)"; return 1; }
  grep -q "Écritures acquittées perdues : 0 / [1-9]" "$report" || { warn "acknowledged writes lost after the hard kill (or none)"; return 1; }
  grep -q "Ancien maître réintégré : oui" "$report" || { warn "old master did not rejoin"; return 1; }
  grep -o "Écriture via HAProxy sur le nouveau maître : [^<]*" "$report" >&2
}
check "verify --module 4 --failover: 0 confirmed key lost, old master back as replica" failover_ok
check "verify after the failover exits 0 (new master, 2 replicas)" kbz verify --module 4
check "apply after the failover changes nothing" apply_json 4 "$CI_WORK/a3.json"
check "after failover: changed 0 on every host" assert_json "$CI_WORK/a3.json" true

# A config change that needs every Redis node restarted, made while a client writes through haproxy-01:
# the nodes must be recreated one at a time, replicas first, the master last (after Sentinel moved its role).
rolling_restart() {
  local mods="$CI_WORK/modules-changed" lb image master writer="$LAB_NAME-ci-writer"   # one per lab instance
  docker rm -f "$writer" >/dev/null 2>&1 || true   # left by an interrupted run
  rm -rf "$mods"; cp -a "$REPO_TOP/modules" "$mods"
  echo "# kbz-ci: a change that needs every Redis node restarted" >>"$mods/04-redis/templates/redis.conf.mustache"
  lb=$(awk -F'\t' '$3 == "haproxy-01" {print $4}' "$LAB_DIR/servers.tsv")
  image=$(awk -F'\t' '$1 == "redis" {print $2}' "$LAB_DIR/bundle/index.tsv")
  master=$(kbz exec --hosts role:redis -- '/usr/local/sbin/kbz-redis-cli status' | awk '/role=master/ {sub(":", "", $1); print $1}')
  [ -n "$master" ] || { warn "no Redis master before the change"; return 1; }
  # The password reaches the writer through the environment (-e NAME copies it), never through argv.
  REDISCLI_AUTH=$(sed -n 's/^REDIS_PASSWORD=//p' "$KBZ_WORKDIR/credentials/redis.env") \
    docker run -d --name "$writer" --network "$LAB_NET" "${LAB_LABELS[@]}" -e REDISCLI_AUTH --entrypoint sh "$image" -c \
    "while :; do t=\$(date +%s%3N); if redis-cli --no-auth-warning -h $lb SET kbz:ci:rolling \$t 2>/dev/null | grep -qx OK;
     then echo ok \$t; else echo fail \$t; fi; sleep 0.1; done" >/dev/null
  local rc=0
  kbz --modules-dir "$mods" apply --module 4 --json >"$CI_WORK/a-rolling.json" || rc=$?
  docker logs "$writer" >"$CI_WORK/writer.txt" 2>&1 || true
  docker rm -f "$writer" >/dev/null 2>&1 || true
  ((rc == 0)) || { warn "apply with the changed config failed (exit $rc)"; return 1; }
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "redis-container") | "\($h) \(.status) \(.message)"' \
    "$CI_WORK/a-rolling.json" | tee "$CI_WORK/rolling-order.txt" >&2
  grep -q " changed .*(rolling 1/3" "$CI_WORK/rolling-order.txt" &&
    grep -q " changed .*(rolling 2/3, after " "$CI_WORK/rolling-order.txt" &&
    grep -q "^$master changed .*(rolling 3/3, primary, after " "$CI_WORK/rolling-order.txt" \
    || { warn "not rolled one node at a time with the master ($master) last"; return 1; }
  # Longest time without an acknowledged write, measured by the client (the report of a rolling change).
  awk '$1 == "ok" { if (last) { gap = $2 - last; if (gap > max) max = gap } last = $2; oks++ }
       $1 == "fail" { fails++ }
       END { printf "writes during the change: %d ok, %d failed, longest gap %d ms\n", oks, fails, max;
             exit !(oks > 0 && max <= 30000) }' "$CI_WORK/writer.txt" >&2
}
check "config change: Redis nodes recreated one at a time, master last, writes through HAProxy go on" rolling_restart
check "verify after the rolling change exits 0" kbz verify --module 4
reapply_changed() { kbz --modules-dir "$CI_WORK/modules-changed" apply --module 4 --json >"$CI_WORK/a-rolling2.json"; }
check "apply with the changed config again" reapply_changed
check "after the rolling change: changed 0 on every host" assert_json "$CI_WORK/a-rolling2.json" true

# The generated password: in credentials/ (0600) and the hosts' 0600 configs only.
password_hidden() {
  local pw; pw=$(sed -n 's/^REDIS_PASSWORD=//p' "$KBZ_WORKDIR/credentials/redis.env")
  [ ${#pw} -ge 20 ] || { warn "no generated password in credentials/redis.env"; return 1; }
  [ "$(stat -c %a "$KBZ_WORKDIR/credentials/redis.env")" = 600 ] || { warn "credentials/redis.env is not 0600"; return 1; }
  if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then   # CI_WORK: plans, JSON summaries
    warn "the Redis password is in a log, report, state or plan"; return 1
  fi
  # Not in any container's argv or environment, nor in any process's argv on the hosts.
  kbz exec --hosts role:redis -- 'docker inspect redis redis-sentinel; ps -eo args' >"$CI_WORK/inspect.txt"
  grep -q '"Cmd"' "$CI_WORK/inspect.txt" || { warn "docker inspect gave nothing"; return 1; }
  if grep -qF -- "$pw" "$CI_WORK/inspect.txt"; then warn "the password is in a container's spec or argv"; return 1; fi
  rm -f "$CI_WORK/inspect.txt"
}
check "the Redis password is in no log, report, plan, argv or container spec" password_hidden
