#!/usr/bin/env bash
# CI for module 7 (MariaDB Galera + ProxySQL) on the lab (profile galera: maria-01..03, proxysql-01/02):
# module 2 first (Docker, UFW), then module 7: plan, apply (bootstrap of one node, the others joined one at a
# time), verify right after it, a second apply that changes nothing, verify --failover (the mariadb of the
# node being written to hard-killed under a committing client: writes resume on another node, 0 acknowledged
# row lost, the node back Synced), a full-cluster stop
# where the LAST node to stop is maria-03 (the most advanced) and one re-apply that must bootstrap from it and
# not from maria-01, every row committed before the stop read back, then a re-apply that changes nothing, and
# the passwords nowhere they must not be. ProxySQL cannot run in the lab (no package, no registry): its files
# are written, its image/container/runtime steps are skipped (when: settings.lab != true) and its verify
# checks are reported "non testé dans le lab".
# Standalone (`make ci-module7`): its own lab (profile galera). Inside the shared lab (ctest, LAB_CI_FIXTURE=1):
# its own servers only. Prints "lab-ci-module7: N passed, N failed" last; artefacts in build/lab-ci-module7/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module7
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages
ci_lab galera
check "mariadb image in the lab bundle" "$here/lab.sh" images mariadb
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE7.md"

plan_shows() {
  kbz plan --module 7 >"$CI_WORK/plan7.txt"
  local f
  for f in /opt/keybuzz/mariadb/conf/galera.cnf /opt/keybuzz/proxysql/conf/proxysql.cnf \
           /opt/keybuzz/proxysql/conf/wanted.sql; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan7.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  grep -q "galera-node-up.*(rolling: one host at a time)" "$CI_WORK/plan7.txt" ||
    { warn "plan does not show the node start rolled one host at a time"; return 1; }
  # No ProxySQL image in the lab: its image/container/runtime steps are `when: settings.lab != true`, so the
  # lab's plan must not pretend to start one.
  ! grep -q "proxysql-container" "$CI_WORK/plan7.txt" || { warn "the lab's plan lists a ProxySQL container it cannot run"; return 1; }
}
check "plan --module 7 on blank servers: exit 0, files with diffs, node start rolled, no ProxySQL container in the lab" plan_shows
check "apply --module 7 (first run)" apply_json 7 "$CI_WORK/a1.json"
check "verify --module 7 right after the first apply exits 0" kbz verify --module 7
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
first_install_order() {
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "galera-node-up") | "\($h) \(.status) \(.message)"' \
    "$CI_WORK/a1.json" | tee "$CI_WORK/first-order.txt" >&2
  grep -q "^maria-01 changed .*(rolling 1/3)" "$CI_WORK/first-order.txt" &&
    grep -q "^maria-02 changed .*(rolling 2/3, after maria-01)" "$CI_WORK/first-order.txt" &&
    grep -q "^maria-03 changed .*(rolling 3/3, after maria-02)" "$CI_WORK/first-order.txt" ||
    { warn "first install not one node at a time (bootstrap maria-01, then 02, then 03)"; return 1; }
  grep -rq "bootstrap: maria-01 chosen" "$KBZ_WORKDIR/logs" || { warn "no bootstrap choice in the logs"; return 1; }
}
check "first install: maria-01 bootstrapped, maria-02 then maria-03 joined, each Synced before the next" first_install_order
check "apply --module 7 (second run)" apply_json 7 "$CI_WORK/a2.json"
check "second apply: changed 0 on every host" assert_json "$CI_WORK/a2.json" true
report_honest() {
  grep -q "non testé dans le lab" "$report" || { warn "ProxySQL checks not marked non testé dans le lab"; return 1; }
  grep -q "rsync" "$report" || { warn "the report does not say which SST method ran"; return 1; }
}
check "report: ProxySQL checks 'non testé dans le lab', SST method named" report_honest

failover_ok() {
  kbz verify --module 7 --failover
  cp "$report" "$CI_WORK/RAPPORT_VALIDATION_MODULE7-failover.md"
  grep -q "Nœud écrit puis arrêté brutalement (docker kill mariadb) : maria-01 " "$report" ||
    { warn "the node killed is not the node written to (maria-01)"; return 1; }
  grep -q "Écritures acquittées perdues : 0 / [1-9]" "$report" || { warn "acknowledged rows lost (or none written)"; return 1; }
  # Writes went on elsewhere: rows taken by maria-02 or maria-03 (each row names the node that took it).
  grep -Eq "Lignes écrites par nœud : [^<]*maria-0[23] : [1-9]" "$report" ||
    { warn "no row taken by another node: writes did not resume elsewhere"; return 1; }
  grep -q "Nœud tué de retour : oui" "$report" || { warn "killed node did not come back Synced"; return 1; }
  local m
  for m in "Reprise des écritures après l'arrêt brutal" "Plus longue interruption des écritures acquittées" \
           "Écritures acquittées perdues" "Lignes écrites par nœud" "Nœud tué de retour"; do
    grep -o "$m : [^<|]*" "$report" | head -n 1 >&2 || true
  done
}
check "verify --module 7 --failover: the written-to node killed, writes resumed on another, 0 acknowledged row lost, back Synced" failover_ok
check "apply after the failover changes nothing" apply_json 7 "$CI_WORK/a3.json"
check "after failover: changed 0 on every host" assert_json "$CI_WORK/a3.json" true

# Full-cluster stop, maria-01 first: rows written after it stopped exist only on maria-02/03, and rows written
# after maria-02 stopped only on maria-03. The re-apply must bootstrap maria-03 (never blindly maria-01).
# kbz exec prefixes each output line with "host: "; sqlon strips it so callers read the client's own output.
sqlon() { kbz exec --hosts "$1" -- "/usr/local/sbin/kbz-galera-cli app $1 -e \"$2\"" | sed "s/^$1: //"; }
full_restart() {
  local i t0
  sqlon maria-01 "CREATE TABLE IF NOT EXISTS erpnext.kbz_ci_restart (id INT PRIMARY KEY, node VARCHAR(16))" >/dev/null
  sqlon maria-01 "DELETE FROM erpnext.kbz_ci_restart" >/dev/null
  kbz exec --hosts maria-01 -- 'docker stop -t 120 mariadb >/dev/null' >/dev/null
  for i in 1 2 3 4 5; do sqlon maria-02 "INSERT INTO erpnext.kbz_ci_restart VALUES ($i, 'maria-02')" >/dev/null; done
  kbz exec --hosts maria-02 -- 'docker stop -t 120 mariadb >/dev/null' >/dev/null
  for i in 6 7 8 9 10; do sqlon maria-03 "INSERT INTO erpnext.kbz_ci_restart VALUES ($i, 'maria-03')" >/dev/null; done
  kbz exec --hosts maria-03 -- 'docker stop -t 120 mariadb >/dev/null' >/dev/null
  kbz exec --hosts subrole:mariadb -- 'grep -E "^(seqno|safe_to_bootstrap)" /opt/keybuzz/mariadb/data/grastate.dat | tr "\n" " "' >&2
  t0=$SECONDS
  apply_json 7 "$CI_WORK/a-restart.json" || { warn "re-apply after the full stop failed"; return 1; }
  info "cluster recovered by one re-apply in $((SECONDS - t0)) s"
  jq -r '.hosts[] | .host as $h | .steps[] | select(.id == "galera-node-up") | "\($h) \(.status) \(.message)"' \
    "$CI_WORK/a-restart.json" | tee "$CI_WORK/restart-order.txt" >&2
  grep -q "^maria-03 changed .*(rolling 1/3)" "$CI_WORK/restart-order.txt" ||
    { warn "maria-03 (the most advanced) was not the first to start"; return 1; }
  grep -rh "bootstrap: maria-03 chosen" "$KBZ_WORKDIR/logs" | tail -n 1 >&2 ||
    { warn "the log does not say maria-03 was chosen"; return 1; }
  local n
  for h in maria-01 maria-02 maria-03; do
    n=$(sqlon "$h" "SELECT COUNT(*) FROM erpnext.kbz_ci_restart" | awk '/^[0-9]+$/ {print; exit}')
    [ "$n" = 10 ] || { warn "$h reads $n of the 10 rows committed before the stop"; return 1; }
  done
  sqlon maria-01 "DROP TABLE erpnext.kbz_ci_restart" >/dev/null
}
check "full-cluster stop: one re-apply bootstraps maria-03 (most advanced), 10/10 rows on every node" full_restart
check "verify after the full restart exits 0" kbz verify --module 7
check "apply after the full restart changes nothing" apply_json 7 "$CI_WORK/a4.json"
check "after full restart: changed 0 on every host" assert_json "$CI_WORK/a4.json" true

passwords_hidden() {
  local k pw
  for k in MARIADB_ROOT_PASSWORD MARIADB_APP_PASSWORD MARIADB_MONITOR_PASSWORD MARIADB_SST_PASSWORD; do
    pw=$(sed -n "s/^$k=//p" "$KBZ_WORKDIR/credentials/mariadb.env")
    [ ${#pw} -ge 20 ] || { warn "no generated $k"; return 1; }
    if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$k is in a log, report, state or plan"; return 1
    fi
    kbz exec --hosts subrole:mariadb -- 'docker inspect mariadb; ps -eo args' >"$CI_WORK/inspect.txt"
    if grep -qF -- "$pw" "$CI_WORK/inspect.txt"; then warn "$k is in a container spec or argv"; return 1; fi
  done
  for k in PROXYSQL_ADMIN_PASSWORD PROXYSQL_CLUSTER_PASSWORD; do
    pw=$(sed -n "s/^$k=//p" "$KBZ_WORKDIR/credentials/proxysql.env")
    [ ${#pw} -ge 20 ] || { warn "no generated $k"; return 1; }
    if grep -rqF -- "$pw" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$k is in a log, report, state or plan"; return 1
    fi
  done
  [ "$(stat -c %a "$KBZ_WORKDIR/credentials/mariadb.env")" = 600 ] || { warn "mariadb.env not 0600"; return 1; }
  rm -f "$CI_WORK/inspect.txt"
}
check "the MariaDB and ProxySQL passwords are in no log, report, plan, argv or container spec" passwords_hidden
