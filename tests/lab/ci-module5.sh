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
# The report says what ran (the lab's RabbitMQ version, found on the nodes) and what the lab cannot test.
report_says() {
  local v
  v=$(awk -F'\t' '$1 == "rabbitmq" {sub(/.*:/, "", $2); print $2}' "$LAB_DIR/bundle/index.tsv")
  [ -n "$v" ] && grep -qF "$v" "$report" || { warn "the report does not show the lab's RabbitMQ version ($v)"; return 1; }
  grep -qF '(`version-rabbitmq-3-12`) : **non testé dans le lab**' "$report" ||
    { warn "the report does not mark the production 3.12 check 'non testé dans le lab'"; return 1; }
  grep -oE "^\*\*Statut\*\* : .*" "$report" >&2
}
check "report: the lab's RabbitMQ version, the production-version check 'non testé dans le lab'" report_says
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

# A config change that needs every RabbitMQ node restarted (rabbitmq.conf is a :ro mount), made while a
# publisher with confirms keeps publishing through haproxy-01 to a quorum queue: the nodes must be recreated
# one at a time (each back in the cluster, no quorum queue critical, before the next), no confirmed message
# lost, and the longest time without a confirm within the failover goal.
rolling_restart() {
  local mods="$CI_WORK/modules-changed" lb q=kbz-ci-rolling amqp=/usr/local/sbin/kbz-amqp rc=0
  local run=/tmp/kbz-ci-rolling   # on haproxy-01: the publisher's script, log and stop file
  rm -rf "$mods"; cp -a "$REPO_TOP/modules" "$mods"
  echo "# kbz-ci: a change that needs every RabbitMQ node restarted" >>"$mods/05-rabbitmq/templates/rabbitmq.conf.mustache"
  lb=$(awk -F'\t' '$3 == "haproxy-01" {print $4}' "$LAB_DIR/servers.tsv")
  # The publisher runs on haproxy-01 (kbz-amqp is there, its password inside the root-only file, never in
  # argv): one connection per message, "ok START END N" once the broker confirmed N, "fail ..." otherwise.
  local publisher
  publisher=$(cat <<'EOF'
n=0
while [ ! -e "$1.stop" ]; do
  n=$((n + 1)); t0=$(date +%s%3N)
  if KBZ_AMQP_TIMEOUT=5 "$2" publish "$3" "$4" "$n" "$n" >/dev/null 2>&1; then r=ok; else r=fail; fi
  echo "$r $t0 $(date +%s%3N) $n"; sleep 0.1
done
echo done
EOF
)
  kbz exec --hosts haproxy-01 -- "set -e; rm -f $run.*; $amqp delete $lb $q >/dev/null 2>&1 || true
    $amqp declare $lb $q >/dev/null
    cat >$run.sh <<'KBZ'
$publisher
KBZ
    setsid nohup sh $run.sh $run $amqp $lb $q >$run.log 2>&1 </dev/null &" >/dev/null
  sleep 5
  kbz --modules-dir "$mods" apply --module 5 --json >"$CI_WORK/a-rolling.json" || rc=$?
  sleep 5
  kbz exec --hosts haproxy-01 -- "touch $run.stop; for i in \$(seq 30); do grep -qx done $run.log && break; sleep 1; done; cat $run.log" |
    sed 's/^haproxy-01: //' >"$CI_WORK/publisher.txt" || true
  kbz exec --hosts haproxy-01 -- "$amqp consume $lb $q; $amqp delete $lb $q >/dev/null; rm -f $run.*" |
    sed 's/^haproxy-01: //' >"$CI_WORK/consumed.txt" || { warn "consume through HAProxy failed"; return 1; }
  ((rc == 0)) || { warn "apply with the changed config failed (exit $rc)"; return 1; }
  grep -qx done "$CI_WORK/publisher.txt" || { warn "the publisher did not stop"; return 1; }
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "rabbitmq-container") | "\($h) \(.status) \(.message)"' \
    "$CI_WORK/a-rolling.json" | tee "$CI_WORK/rolling-order.txt" >&2
  grep -q " changed .*(rolling 1/3)" "$CI_WORK/rolling-order.txt" &&
    grep -q " changed .*(rolling 2/3, after queue-0[0-9])" "$CI_WORK/rolling-order.txt" &&
    grep -q " changed .*(rolling 3/3, after queue-0[0-9])" "$CI_WORK/rolling-order.txt" \
    || { warn "the RabbitMQ nodes were not recreated one at a time"; return 1; }
  # Every confirmed message consumed back (0 lost); the longest time between two confirms (the pause).
  awk 'FILENAME == ARGV[1] { seen[$1] = 1; next }
       $1 == "ok" { oks++; if (!($4 in seen)) { lost++; if (!first) first = $4 }
                    if (last) { gap = $3 - last; if (gap > max) max = gap } last = $3 }
       $1 == "fail" { fails++ }
       END { printf "publishes during the rolling change: %d confirmed, %d failed, %d confirmed lost%s, longest pause between two confirms %d ms\n",
                    oks, fails, lost, lost ? " (first: " first ")" : "", max;
             exit !(oks > 0 && lost == 0 && max <= 30000) }' "$CI_WORK/consumed.txt" "$CI_WORK/publisher.txt" >&2
}
check "config change: RabbitMQ nodes recreated one at a time, confirmed publishes through HAProxy go on, 0 lost" rolling_restart
check "verify after the rolling change exits 0" kbz verify --module 5
reapply_changed() { kbz --modules-dir "$CI_WORK/modules-changed" apply --module 5 --json >"$CI_WORK/a-rolling2.json"; }
check "apply with the changed config again" reapply_changed
check "after the rolling change: changed 0 on every host" assert_json "$CI_WORK/a-rolling2.json" true

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
