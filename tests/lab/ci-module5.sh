#!/usr/bin/env bash
# CI for module 5 (RabbitMQ quorum cluster + HAProxy) on the lab (profile rabbitmq: queue-01..03,
# haproxy-01/02): module 2 first (Docker, UFW), then module 5: plan with diffs on blank servers, apply, verify
# right after it, a second apply that changes nothing, verify --failover (hard kill of the node leading a
# quorum queue under a publisher with confirms: 0 confirmed message lost, confirms through HAProxy again
# within the goal, the node back with the queue at three members), a re-apply after the failover that
# changes nothing, and the Erlang cookie and the administrator password nowhere they must not be.
# Images come from the lab bundle (Debian's rabbitmq-server 3.10.8 and haproxy 2.6), uploaded by the image step.
# Standalone (`make ci-module5`): its own lab (profile rabbitmq), module 2 on it, taken down at the end.
# Inside the shared lab (ctest, LAB_CI_FIXTURE=1, see lib/ci.sh): uses the running `ci` lab, touches only its
# own servers (module 5's targets = profile rabbitmq), leaves the lab up.
# Prints "lab-ci-module5: N passed, N failed" last; artefacts in build/lab-ci-module5/ (no credentials).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module5
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

ci_lab rabbitmq
check "rabbitmq and haproxy images in the lab bundle" "$here/lab.sh" images rabbitmq haproxy
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE5.md"

plan_shows_files() {
  kbz plan --module 5 >"$CI_WORK/plan5.txt"
  local f
  for f in /opt/keybuzz/rabbitmq/conf/rabbitmq.conf /opt/keybuzz/rabbitmq/conf/erlang.cookie \
           /opt/keybuzz/rabbitmq-lb/config/haproxy-rabbitmq.cfg; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan5.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  grep -q "~ rabbitmq-container: runs once the steps before it ran" "$CI_WORK/plan5.txt" &&
    grep -q "~ haproxy-container: runs once the steps before it ran" "$CI_WORK/plan5.txt"
}
check "plan --module 5 on blank servers: exit 0, every file with its diff, containers after their images" plan_shows_files
timed_apply() { local t0=$SECONDS; apply_json 5 "$1"; info "apply took $((SECONDS - t0)) s"; }
check "apply --module 5 (first run)" timed_apply "$CI_WORK/a1.json"
check "verify --module 5 right after the first apply exits 0" kbz verify --module 5
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
check "apply --module 5 (second run)" timed_apply "$CI_WORK/a2.json"
check "second apply: changed 0 on every host" assert_json "$CI_WORK/a2.json" true

failover_ok() {
  kbz verify --module 5 --failover
  grep -q "Messages confirmés perdus : 0 / [1-9]" "$report" || { warn "confirmed messages lost (or none confirmed)"; return 1; }
  grep -q "Écritures acquittées perdues : 0 / [1-9]" "$report" || { warn "confirmed publishes lost after the hard kill (or none)"; return 1; }
  grep -q "Nœud arrêté réintégré : oui" "$report" || { warn "the killed node did not rejoin"; return 1; }
  grep -oE "(Reprise des écritures après l'arrêt brutal|Nœud arrêté réintégré|Doublons relus) : [^<]*" "$report" >&2
}
check "verify --module 5 --failover: 0 confirmed message lost, killed node back, queue at 3 members" failover_ok
check "verify after the failover exits 0" kbz verify --module 5
check "apply after the failover changes nothing" apply_json 5 "$CI_WORK/a3.json"
check "after failover: changed 0 on every host" assert_json "$CI_WORK/a3.json" true

# The generated secrets: in credentials/ (0600) and the hosts' owner-only files only.
secrets_hidden() {
  local env="$KBZ_WORKDIR/credentials/rabbitmq.env" key s
  [ "$(stat -c %a "$env")" = 600 ] || { warn "credentials/rabbitmq.env is not 0600"; return 1; }
  kbz exec --hosts role:queue -- 'docker inspect rabbitmq; ps -eo args' >"$CI_WORK/inspect.txt"
  grep -q '"Cmd"' "$CI_WORK/inspect.txt" || { warn "docker inspect gave nothing"; return 1; }
  for key in RABBITMQ_ERLANG_COOKIE RABBITMQ_ADMIN_PASSWORD; do
    s=$(sed -n "s/^$key=//p" "$env")
    [ ${#s} -ge 20 ] || { warn "no generated $key in credentials/rabbitmq.env"; return 1; }
    if grep -rqF -- "$s" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$key is in a log, report, state, plan or container spec"; return 1
    fi
  done
  rm -f "$CI_WORK/inspect.txt"
}
check "the Erlang cookie and admin password are in no log, report, plan, argv or container spec" secrets_hidden
