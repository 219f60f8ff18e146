#!/usr/bin/env bash
# CI for module 3 (PostgreSQL + Patroni RAFT + HAProxy + PgBouncer) on the lab (profile pg: db-master-01,
# db-slave-01..02, haproxy-01/02): module 2 first (Docker, UFW), then module 3: plan with diffs on blank
# servers, apply, verify right after it (apply ends converged), a second apply that changes nothing,
# verify --failover (hard kill of the leader's patroni container under a client committing numbered rows
# through HAProxy: 0 acknowledged row lost, old leader back as replica; then a planned switchover), a
# re-apply after the failover that still changes nothing, a config change rolled one node at a time (leader
# last) under a writer, and the passwords nowhere they must not be.
# Images come from the lab bundle: Debian's postgresql-15 + patroni 3.0.2 + python3-pysyncobj (+ pgbouncer
# 1.18) and haproxy 2.6, not the production recipe (modules/03-postgresql/Dockerfile.patroni): no registry here.
# Standalone (`make ci-module3`): its own lab (profile pg), module 2 on it, taken down at the end. Inside the
# shared lab (ctest, LAB_CI_FIXTURE=1, see lib/ci.sh): uses the running `ci` lab, touches only its servers.
# Prints "lab-ci-module3: N passed, N failed" last; artefacts in build/lab-ci-module3/ (no credentials).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module3
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

ci_lab pg
check "postgres and haproxy images in the lab bundle" "$here/lab.sh" images postgres haproxy
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE3.md"

plan_shows_files() {
  kbz plan --module 3 >"$CI_WORK/plan3.txt"
  local f
  for f in /opt/keybuzz/patroni/config/patroni.yml /opt/keybuzz/pg-lb/config/haproxy-pg.cfg \
           /opt/keybuzz/pgbouncer/config/pgbouncer.ini /opt/keybuzz/pgbouncer/config/userlist.txt; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan3.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  grep -q "~ patroni-container: runs once the steps before it ran" "$CI_WORK/plan3.txt" &&
    grep -q "~ pgbouncer-container: runs once the steps before it ran" "$CI_WORK/plan3.txt"
}
check "plan --module 3 on blank servers: exit 0, every file with its diff, containers after their images" plan_shows_files
first_apply() {
  local t0=$SECONDS
  apply_json 3 "$CI_WORK/a1.json"
  info "first apply: $((SECONDS - t0)) s"
}
check "apply --module 3 (first run, the three Patroni nodes started together)" first_apply
# apply ends converged: verify right after it, with nothing in between, must pass.
check "verify --module 3 right after the first apply exits 0" kbz verify --module 3
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
second_apply() {
  local t0=$SECONDS
  apply_json 3 "$CI_WORK/a2.json"
  info "second apply: $((SECONDS - t0)) s"
}
check "apply --module 3 (second run)" second_apply
check "second apply: changed 0 on every host" assert_json "$CI_WORK/a2.json" true
report_says() {
  local id
  grep -q "Base keybuzz présente" "$report" || { warn "report lacks the database check"; return 1; }
  # One 🔬 line per check the lab cannot make, with its reason (not merely the words somewhere).
  for id in pgvector version-postgres-16; do
    grep -q "^- 🔬 .*(\`$id\`) : \*\*non testé dans le lab\*\* — .*(3 serveur(s))" "$report" ||
      { warn "report has no 'non testé dans le lab' line for $id on the 3 Patroni nodes"; return 1; }
  done
  grep -q "RAFT .*déprécié.*etcd" "$report" || { warn "report's Points d'attention lack the RAFT deprecation"; return 1; }
}
check "report: database check there, pgvector and PostgreSQL 16 'non testé dans le lab'" report_says

failover_ok() {
  kbz verify --module 3 --failover
  grep -q "Écritures acquittées perdues : 0 / [1-9]" "$report" || { warn "acknowledged rows lost after the hard kill (or none)"; return 1; }
  grep -q "Ancien leader réintégré : oui" "$report" || { warn "old leader did not rejoin"; return 1; }
  grep -q "Écritures acquittées perdues (switchover) : 0 / [1-9]" "$report" || { warn "rows lost at the switchover (or none)"; return 1; }
  grep -oE "(Écriture via HAProxy sur le nouveau leader|Ancien leader réintégré|Pause des écritures acquittées pendant le switchover) : [^<]*" "$report" >&2
}
check "verify --module 3 --failover: docker kill of the leader, 0 acknowledged row lost, old leader back, switchover" failover_ok
check "verify after the failover exits 0 (new leader, sync standby, replica)" kbz verify --module 3
check "apply after the failover changes nothing" apply_json 3 "$CI_WORK/a3.json"
check "after failover: changed 0 on every host" assert_json "$CI_WORK/a3.json" true

# A config change that recreates every patroni container, made while a client commits through haproxy-01:
# the nodes go one at a time, replicas first, the leader last (after a switchover to the sync standby).
rolling_restart() {
  local mods="$CI_WORK/modules-changed" lb image leader writer="$LAB_NAME-ci-pgwriter"
  docker rm -f "$writer" >/dev/null 2>&1 || true
  rm -rf "$mods"; cp -a "$REPO_TOP/modules" "$mods"
  echo "# kbz-ci: a change that restarts every Patroni node" >>"$mods/03-postgresql/templates/patroni.yml.mustache"
  lb=$(awk -F'\t' '$3 == "haproxy-01" {print $4}' "$LAB_DIR/servers.tsv")
  image=$(awk -F'\t' '$1 == "postgres" {print $2}' "$LAB_DIR/bundle/index.tsv")
  leader=$(kbz exec --hosts db-master-01 -- '/usr/local/sbin/kbz-pg-cli cluster' | grep -o ' leader=[^ ]*' | cut -d= -f2)
  [ -n "$leader" ] || { warn "no Patroni leader before the change"; return 1; }
  # The application password reaches the writer through the environment (-e NAME), never argv.
  PGPASSWORD=$(sed -n 's/^POSTGRES_APP_PASS=//p' "$KBZ_WORKDIR/credentials/postgres.env") \
    docker run -d --name "$writer" --network "$LAB_NET" "${LAB_LABELS[@]}" -e PGPASSWORD -e PGCONNECT_TIMEOUT=3 \
    --entrypoint sh "$image" -c \
    "psql -h $lb -U kb_app -d keybuzz -qc 'CREATE TABLE IF NOT EXISTS kbz_ci_rolling (t bigint)' >/dev/null 2>&1;
     while :; do t=\$(date +%s%3N); if psql -h $lb -U kb_app -d keybuzz -qc \"INSERT INTO kbz_ci_rolling VALUES (\$t)\" >/dev/null 2>&1;
     then echo ok \$t; else echo fail \$t; fi; sleep 0.1; done" >/dev/null
  local rc=0 t0=$SECONDS
  kbz --modules-dir "$mods" apply --module 3 --json >"$CI_WORK/a-rolling.json" || rc=$?
  info "rolling apply: $((SECONDS - t0)) s"
  docker logs "$writer" >"$CI_WORK/writer.txt" 2>&1 || true
  docker rm -f "$writer" >/dev/null 2>&1 || true
  ((rc == 0)) || { warn "apply with the changed config failed (exit $rc)"; return 1; }
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "patroni-container") | "\($h) \(.status) \(.message)"' \
    "$CI_WORK/a-rolling.json" | tee "$CI_WORK/rolling-order.txt" >&2
  grep -q " changed .*(rolling 1/3" "$CI_WORK/rolling-order.txt" &&
    grep -q " changed .*(rolling 2/3, after " "$CI_WORK/rolling-order.txt" &&
    grep -q "^$leader changed .*(rolling 3/3, primary, after " "$CI_WORK/rolling-order.txt" \
    || { warn "not rolled one node at a time with the leader ($leader) last"; return 1; }
  awk '$1 == "ok" { if (last) { gap = $2 - last; if (gap > max) max = gap } last = $2; oks++ }
       $1 == "fail" { fails++ }
       END { printf "writes during the change: %d ok, %d failed, longest gap %d ms\n", oks, fails, max;
             exit !(oks > 0 && max <= 30000) }' "$CI_WORK/writer.txt" >&2
}
check "config change: Patroni nodes recreated one at a time, leader last, commits through HAProxy go on" rolling_restart
check "verify after the rolling change exits 0" kbz verify --module 3
reapply_changed() { kbz --modules-dir "$CI_WORK/modules-changed" apply --module 3 --json >"$CI_WORK/a-rolling2.json"; }
check "apply with the changed config again" reapply_changed
check "after the rolling change: changed 0 on every host" assert_json "$CI_WORK/a-rolling2.json" true

# The generated passwords: in credentials/ (0600) and the hosts' 0600 files only.
passwords_hidden() {
  local f="$KBZ_WORKDIR/credentials/postgres.env" key pw
  [ "$(stat -c %a "$f")" = 600 ] || { warn "credentials/postgres.env is not 0600"; return 1; }
  kbz exec --hosts "$CI_SEL" -- 'docker inspect patroni haproxy-pg pgbouncer 2>/dev/null; ps -eo args' >"$CI_WORK/inspect.txt"
  grep -q '"Cmd"' "$CI_WORK/inspect.txt" || { warn "docker inspect gave nothing"; return 1; }
  for key in POSTGRES_SUPERPASS POSTGRES_REPL_PASS POSTGRES_APP_PASS PATRONI_API_PASSWORD POSTGRES_APP_SCRAM; do
    pw=$(sed -n "s/^$key=//p" "$f")
    [ ${#pw} -ge 20 ] || { warn "no generated $key in credentials/postgres.env"; return 1; }
    if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$key is in a log, report, state or plan"; return 1
    fi
  done
  rm -f "$CI_WORK/inspect.txt"
  # userlist.txt holds the verifier, never the password.
  pw=$(sed -n 's/^POSTGRES_APP_PASS=//p' "$f")
  kbz exec --hosts subrole:internal-haproxy -- 'cat /opt/keybuzz/pgbouncer/config/userlist.txt' >"$CI_WORK/userlist.txt"
  if grep -qF -- "$pw" "$CI_WORK/userlist.txt"; then warn "plaintext password in userlist.txt"; rm -f "$CI_WORK/userlist.txt"; return 1; fi
  rm -f "$CI_WORK/userlist.txt"
}
check "the PostgreSQL passwords are in no log, report, plan, argv or container spec; userlist.txt has no password" passwords_hidden
