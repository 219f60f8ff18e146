#!/usr/bin/env bash
# Proves the lab itself, with plain OpenSSH (no kbz-install needed): brings the lab up (profile base unless
# LAB_PROFILE says otherwise), checks what kbz-install will rely on, then takes it down (LAB_SELFTEST_KEEP=1
# keeps it). Prints "N passed, N failed" last.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/images.sh"
source "$here/lib/bundle.sh"
source "$here/lib/disks.sh"
source "$here/lib/fleet.sh"
need_root

profile=${LAB_PROFILE:-base}
passed=0 failed=0

# check NAME CMD...: a failed check is counted and the run goes on (checks are independent).
check() {
  local name=$1; shift
  if "$@"; then ((passed += 1)); info "ok    $name"
  else ((failed += 1)); warn "FAIL  $name"; fi
}

finish() {
  [ "${LAB_SELFTEST_KEEP:-0}" = 1 ] || "$here/lab.sh" down >/dev/null 2>&1 || warn "lab down failed"
  echo "lab-selftest: $passed passed, $failed failed"
}
trap finish EXIT

"$here/lab.sh" up --profile "$profile"
hosts=$(profile_hosts "$profile")
# This instance's servers only (other lab instances may run on the same engine).
lab_ids() { docker ps -q --filter label=kbz-lab.host --filter "name=^$LAB_NAME-" | sort; }
ids_before=$(lab_ids)

header_ok() {
  [ "$(head -n1 "$LAB_DIR/servers.tsv")" = "$(printf 'ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_STACK\tCORE\tNOTES')" ]
}
twelve_columns() { awk -F'\t' 'NF != 12 {bad = 1} END {exit bad}' "$LAB_DIR/servers.tsv"; }
rows_match_profile() {
  [ "$(awk -F'\t' 'NR > 1 && $8 != "orchestrator" {print $3}' "$LAB_DIR/servers.tsv" | sort | paste -sd' ')" \
    = "$(tr ' ' '\n' <<<"$hosts" | sort | paste -sd' ')" ]
}
orchestrator_row() { awk -F'\t' -v gw="$LAB_GATEWAY" '$3 == "install-01" && $4 == gw && $8 == "orchestrator" {f = 1} END {exit !f}' "$LAB_DIR/servers.tsv"; }
roles_as_real() {
  local h
  for h in $hosts; do
    awk -F'\t' -v h="$h" -v p="$(fleet_field "$h" POOL)" -v r="$(fleet_field "$h" ROLE)" \
        -v s="$(fleet_field "$h" SUBROLE)" -v d="$(fleet_field "$h" DOCKER_STACK)" \
        '$3 == h && $7 == p && $8 == r && $9 == s && $10 == d {f = 1} END {exit !f}' "$LAB_DIR/servers.tsv" || return 1
  done
}
ssh_strict() { lab_ssh "$(lab_ip "$1")" true; }
# A known_hosts that lacks the host must be refused, or the lab would be teaching trust-on-first-use.
ssh_refuses_unknown() {
  ! ssh -i "$LAB_DIR/ssh/id_ed25519" -o BatchMode=yes -o ConnectTimeout=5 -o UserKnownHostsFile=/dev/null \
      -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o LogLevel=QUIET "root@$(lab_ip "$1")" true
}
distinct_host_keys() { [ "$(awk '$2 == "ssh-ed25519" {print $3}' "$LAB_DIR/known_hosts" | sort -u | wc -l)" -eq "$(wc -w <<<"$hosts")" ]; }
hostname_is_lab_name() { [ "$(lab_ssh "$(lab_ip "$1")" hostname)" = "$1" ]; }
systemd_running() { [ "$(lab_ssh "$(lab_ip "$1")" systemctl is-system-running)" = running ]; }
apt_works() { lab_ssh "$(lab_ip "$1")" 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-cache policy docker.io | grep -q Candidate'; }
locale_utf8() { lab_ssh "$(lab_ip "$1")" 'locale -a | grep -qi "en_US.utf8"'; }
# CAP_SYS_TIME is bit 25 of the effective set: it must be 0 (see RUN_FLAGS in lib/fleet.sh).
no_clock_capability() {
  [ "$(lab_ssh "$(lab_ip "$1")" 'c=$(awk "/^CapEff/ {print \$2}" /proc/self/status); echo $(( (0x$c >> 25) & 1 ))')" = 0 ]
}
settings_ok() { grep -qxF "  private_cidr: $LAB_SUBNET" "$LAB_DIR/kbz.yaml" && grep -q '^  source: distribution$' "$LAB_DIR/kbz.yaml"; }
labelled() {   # every server of this instance carries kbz-lab.instance=N, and its name is $LAB_NAME-<host>
  local h
  for h in $hosts; do
    [ "$(docker container inspect -f '{{index .Config.Labels "kbz-lab.instance"}}' "$LAB_NAME-$h")" = "$LAB_INSTANCE" ] || return 1
  done
}
second_up_idempotent() {
  "$here/lab.sh" up --profile "$profile" >/dev/null 2>&1 &&
    [ "$(lab_ids)" = "$ids_before" ] &&
    [ "$(docker network ls -q --filter "name=^$LAB_NET\$" | wc -l)" -eq 1 ] &&
    [ "$(iptables -S DOCKER-USER | grep -c -- "-i $LAB_BRIDGE -j DROP")" -eq 1 ]
}

check "servers.tsv header is the real one" header_ok
check "servers.tsv rows have 12 columns" twelve_columns
check "servers.tsv lists exactly the profile's servers" rows_match_profile
check "servers.tsv has install-01 as orchestrator on $LAB_GATEWAY" orchestrator_row
check "POOL/ROLE/SUBROLE/DOCKER_STACK as in the real rows" roles_as_real
check "kbz.yaml has the lab network and docker.io" settings_ok
check "servers named $LAB_NAME-<host>, labelled kbz-lab.instance=$LAB_INSTANCE" labelled
check "each server has its own host key" distinct_host_keys
for h in $hosts; do
  check "$h: ssh root with StrictHostKeyChecking=yes" ssh_strict "$h"
  check "$h: unknown host key refused" ssh_refuses_unknown "$h"
  check "$h: hostname is $h" hostname_is_lab_name "$h"
  check "$h: systemd running" systemd_running "$h"
  check "$h: cannot set the machine's clock" no_clock_capability "$h"
done
first=${hosts%% *}
check "$first: apt-get update works, docker.io has a candidate" apt_works "$first"
check "$first: en_US.UTF-8 locale" locale_utf8 "$first"
check "second up changes nothing (same containers, one network, one rule set)" second_up_idempotent
((failed == 0))
