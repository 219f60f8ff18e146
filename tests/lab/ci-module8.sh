#!/usr/bin/env bash
# CI for module 8 (ProxySQL advanced + Galera tuning) on the lab (profile galera: maria-01..03,
# proxysql-01/02): module 2, then module 7 (the Galera cluster), then module 8: a kbz.yaml naming a ProxySQL
# variable that 2.6 does not have is refused (exit 2, the key named), plan shows every step on the lab's
# servers, apply (tuning.cnf written, the nodes restarted one at a time by the engine's rolling, the writer
# maria-01 last), verify (every tuned variable read back live on every node), a second apply of module 8 AND
# of module 7 that change nothing (the two modules do not undo each other), then a tuning change
# (gcs.fc_limit) rolled by the engine while a client on proxysql-01 commits numbered rows: 0 acknowledged row
# lost, the longest pause measured (goal <= 10 s); verify --failover (the three nodes restarted one at a time
# under writes), and the passwords nowhere they must not be. ProxySQL cannot run in the lab: its files are
# written, its runtime step is skipped (when: settings.lab != true), its checks are "non testé dans le lab";
# kbz-db-client stands in for it (the writer first, then the backup writers).
# Standalone (`make ci-module8`): its own lab (profile galera). Prints "lab-ci-module8: N passed, N failed"
# last; artefacts in build/lab-ci-module8/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module8
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages
ci_lab galera
check "mariadb image in the lab bundle" "$here/lab.sh" images mariadb
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE8.md"

# Small sizes for three nodes on a shared machine (the lab's kbz.yaml already shrinks module 7's caches).
lab_tuning() {
  grep -q '^galera:' "$LAB_DIR/kbz.yaml" ||
    echo "galera: {innodb_buffer_pool_size: 128M, innodb_log_file_size: 64M, max_connections: 300}" >>"$LAB_DIR/kbz.yaml"
  grep -qx 'galera: {innodb_buffer_pool_size: 128M, innodb_log_file_size: 64M, max_connections: 300}' "$LAB_DIR/kbz.yaml" ||
    { warn "lab kbz.yaml not tuned"; return 1; }
}
check "lab kbz.yaml: small InnoDB sizes for module 8" lab_tuning

check "apply --module 7 (the Galera cluster module 8 tunes)" apply_json 7 "$CI_WORK/m7.json"
check "module 7: no host failed" assert_json "$CI_WORK/m7.json" false
check "verify --module 7" kbz verify --module 7

unknown_variable_refused() {
  local bad="$CI_WORK/kbz-bad.yaml" rc=0
  { cat "$LAB_DIR/kbz.yaml"; printf 'proxysql:\n  mysql_variables:\n    galera_check_interval: 2000\n'; } >"$bad"
  "$KBZ_BIN" --inventory "$LAB_DIR/servers.tsv" --config "$bad" --known-hosts "$LAB_DIR/known_hosts" \
    --identity "$LAB_DIR/ssh/id_ed25519" --workdir "$KBZ_WORKDIR" plan --module 8 >"$CI_WORK/bad.out" 2>&1 || rc=$?
  cat "$CI_WORK/bad.out" >&2
  [ "$rc" = 2 ] || { warn "exit $rc, not 2"; return 1; }
  grep -q "proxysql.mysql_variables.galera_check_interval" "$CI_WORK/bad.out" || { warn "the key is not named"; return 1; }
}
check "kbz.yaml naming a ProxySQL variable 2.6 does not have: exit 2, the key named" unknown_variable_refused

plan_shows() {
  kbz plan --module 8 >"$CI_WORK/plan8.txt"
  local f
  for f in /usr/local/sbin/kbz-galera-tune /usr/local/sbin/kbz-proxysql-tune /usr/local/sbin/kbz-db-client; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan8.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  grep -q "galera-tuning-live.*(rolling: one host at a time)" "$CI_WORK/plan8.txt" ||
    { warn "plan does not show the tuning restart rolled one host at a time"; return 1; }
  # proxysql-advanced (when: settings.lab != true) is left out of a lab plan; what runs on the ProxySQL servers
  # here (its helper, option files, the exporter's firewall rule) is listed.
  grep -q "proxysql-exporter-firewall" "$CI_WORK/plan8.txt" || { warn "plan does not list the exporter firewall"; return 1; }
  grep -q "^proxysql-01: 5 to change" "$CI_WORK/plan8.txt" || { warn "plan: proxysql-01 has not its 5 lab steps to change"; return 1; }
}
check "plan --module 8: exit 0, helpers with diffs, tuning restart rolled, ProxySQL lab steps listed" plan_shows

# rolled_order FILE: maria-02, maria-03 then the writer maria-01, each after the one before.
rolled_order() {
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "galera-tuning-live") | "\($h) \(.status) \(.message)"' \
    "$1" | tee "$1.order" >&2
  grep -q "^maria-02 changed .*(rolling 1/3)" "$1.order" &&
    grep -q "^maria-03 changed .*(rolling 2/3, after maria-02)" "$1.order" &&
    grep -q "^maria-01 changed .*(rolling 3/3, primary, after maria-03)" "$1.order" ||
    { warn "not one node at a time with the writer maria-01 last"; return 1; }
}
check "apply --module 8 (first run)" apply_json 8 "$CI_WORK/a1.json"
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
check "first apply: restarts rolled maria-02, maria-03, then the writer maria-01" rolled_order "$CI_WORK/a1.json"
verify_ok() {
  kbz verify --module 8
  grep -q "non testé dans le lab" "$report" || { warn "ProxySQL checks not marked non testé dans le lab"; return 1; }
  grep -o "innodb_buffer_pool_size=[0-9]* max_connections=[0-9]*[^<|]*" "$report" | head -n 3 >&2
  grep -q "innodb_buffer_pool_size=134217728 max_connections=300" "$report" || { warn "live values not in the report"; return 1; }
}
check "verify --module 8: every tuned variable live on every node, ProxySQL 'non testé dans le lab'" verify_ok
check "apply --module 8 (second run)" apply_json 8 "$CI_WORK/a2.json"
check "second apply of module 8: changed 0 on every host" assert_json "$CI_WORK/a2.json" true
check "apply --module 7 after module 8" apply_json 7 "$CI_WORK/a2-m7.json"
check "module 7 after module 8: changed 0 (module 7 does not undo module 8)" assert_json "$CI_WORK/a2-m7.json" true

# ---- a tuning change rolled by the engine while a client commits numbered rows through kbz-db-client
# One host's command; its output without the "host: " prefix kbz-install exec puts on each line.
on() { local h=$1; shift; kbz exec --hosts "$h" -- "$@" | sed "s/^$h: //"; }
W=/run/kbz-ci8
rolling_under_writes() {
  on proxysql-01 "/usr/local/sbin/kbz-db-client sql -e 'CREATE TABLE IF NOT EXISTS erpnext.kbz_ci8 (id BIGINT PRIMARY KEY) ENGINE=InnoDB; DELETE FROM erpnext.kbz_ci8'" >/dev/null
  on proxysql-01 "rm -rf $W; mkdir -p $W; cat > $W/w.sh <<'EOS'
i=0
while [ ! -e $W/stop ]; do
  i=\$((i + 1)); s=\$(date +%s%3N)
  if timeout 10 /usr/local/sbin/kbz-db-client sql -e \"INSERT INTO erpnext.kbz_ci8 (id) VALUES (\$i)\" >/dev/null 2>&1 </dev/null
  then r=ok; else r=fail; fi
  echo \"\$r \$i \$s \$(date +%s%3N)\" >> $W/log
  sleep 0.1
done
EOS
setsid nohup sh $W/w.sh >/dev/null 2>&1 </dev/null &" >/dev/null
  sleep 5
  sed -i 's/^galera: {innodb_buffer_pool_size: 128M/galera: {gcs_fc_limit: 200, innodb_buffer_pool_size: 128M/' "$LAB_DIR/kbz.yaml"
  grep -q '^galera: {gcs_fc_limit: 200,' "$LAB_DIR/kbz.yaml" || { warn "kbz.yaml not changed"; return 1; }
  local t0=$SECONDS rc=0
  apply_json 8 "$CI_WORK/a-roll.json" || rc=$?
  info "rolled tuning change applied in $((SECONDS - t0)) s (exit $rc)"
  sleep 3
  on proxysql-01 "touch $W/stop; sleep 2; cat $W/log" | awk '$1 == "ok" || $1 == "fail"' >"$CI_WORK/writes.log"
  ((rc == 0)) || { warn "the rolled apply failed"; return 1; }
  assert_json "$CI_WORK/a-roll.json" false
  rolled_order "$CI_WORK/a-roll.json"
  local h acked lost gap
  acked=$(awk '$1 == "ok"' "$CI_WORK/writes.log" | wc -l)
  ((acked > 0)) || { warn "no acknowledged write"; return 1; }
  for h in maria-01 maria-02 maria-03; do
    on "$h" "/usr/local/sbin/kbz-galera-cli app $h -e 'SELECT id FROM erpnext.kbz_ci8'" | awk '/^[0-9]+$/' | sort -n >"$CI_WORK/back-$h.txt"
    lost=$(awk '$1 == "ok" {print $2}' "$CI_WORK/writes.log" | sort -n | comm -23 - "$CI_WORK/back-$h.txt" | wc -l)
    info "$h: $((acked - lost)) / $acked acknowledged rows read back"
    ((lost == 0)) || { warn "$lost acknowledged rows lost on $h"; return 1; }
  done
  gap=$(awk '$1 == "ok" {print $4}' "$CI_WORK/writes.log" | sort -n | awk 'NR > 1 && $1 - p > g {g = $1 - p} {p = $1} END {print g + 0}')
  info "writes: $(wc -l <"$CI_WORK/writes.log") attempted, $acked acknowledged, 0 lost; longest pause in acknowledged writes: ${gap} ms"
  echo "rolled change under writes: $acked acknowledged, 0 lost, longest pause ${gap} ms" >"$CI_WORK/rolling-under-writes.txt"
  ((gap <= 10000)) || { warn "pause of ${gap} ms (goal <= 10 s)"; return 1; }
  on proxysql-01 "/usr/local/sbin/kbz-db-client sql -e 'DROP TABLE erpnext.kbz_ci8'; rm -rf $W" >/dev/null
}
check "gcs.fc_limit changed and rolled by the engine under writes: 0 acknowledged row lost, pause <= 10 s" rolling_under_writes
fc_limit_live() {
  kbz verify --module 8
  kbz exec --hosts subrole:mariadb -- '/usr/local/sbin/kbz-galera-tune live | grep provider:gcs.fc_limit' | tee "$CI_WORK/fc.txt" >&2
  [ "$(grep -c 'provider:gcs.fc_limit live=200 wanted=200 ok' "$CI_WORK/fc.txt")" = 3 ] || { warn "gcs.fc_limit=200 not live on 3 nodes"; return 1; }
}
check "verify after the change: gcs.fc_limit 200 live on the 3 nodes" fc_limit_live
check "apply after the change" apply_json 8 "$CI_WORK/a3.json"
check "after the change: changed 0 on every host" assert_json "$CI_WORK/a3.json" true

failover_ok() {
  kbz verify --module 8 --failover
  grep -q "Écritures acquittées perdues : 0 / [1-9]" "$report" || { warn "acknowledged rows lost (or none written)"; return 1; }
  grep -o "Plus longue interruption des écritures acquittées : [^<]*" "$report" >&2 || true
  grep -o "Ordre des redémarrages : [^<]*" "$report" >&2 || true
}
check "verify --module 8 --failover: 3 nodes restarted one at a time under writes, 0 acknowledged row lost" failover_ok
check "apply after the failover test changes nothing" apply_json 8 "$CI_WORK/a4.json"
check "after the failover test: changed 0 on every host" assert_json "$CI_WORK/a4.json" true

passwords_hidden() {
  local k pw
  for k in MARIADB_APP_PASSWORD; do
    pw=$(sed -n "s/^$k=//p" "$KBZ_WORKDIR/credentials/mariadb.env")
    [ ${#pw} -ge 20 ] || { warn "no generated $k"; return 1; }
    if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$k is in a log, report, state or plan"; return 1
    fi
  done
  pw=$(sed -n "s/^PROXYSQL_CLUSTER_PASSWORD=//p" "$KBZ_WORKDIR/credentials/proxysql.env")
  [ ${#pw} -ge 20 ] || { warn "no generated PROXYSQL_CLUSTER_PASSWORD"; return 1; }
  if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
    warn "PROXYSQL_CLUSTER_PASSWORD is in a log, report, state or plan"; return 1
  fi
}
check "the application and ProxySQL cluster passwords are in no log, report, plan or state" passwords_hidden
