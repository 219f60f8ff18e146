#!/usr/bin/env bash
# CI for the data-volume step (module 2, issue 15) on real block devices: minio-01 holds two loop devices
# (tests/lab/lib/disks.sh), a blank 101 GB sparse disk that the lab's kbz.yaml names as its required volume,
# and an ext4 disk holding a file. Module 2's first apply (lab_setup, or this script standalone) formatted and
# mounted the blank one; here: it is XFS with our label, in fstab by UUID with nofail, a re-apply changes
# nothing, a server restart keeps the data (see below), the ext4 disk is refused and left byte for byte
# intact, and a third, blank disk is shown as "format <device>" by plan (which writes nothing) and formatted
# by apply. (Wiping the mounted data disk again is no test: after umount, mount namespaces of services started
# meanwhile still hold it, "Device or resource busy".)
# A restart of a lab server is not a real reboot: without udev in a container, systemd never sees the disk's
# device unit, so the fstab mount waits for it and gives up (nofail); the re-apply mounts it from fstab. On a
# real server systemd mounts it at boot. The script checks which happened and says so.
# Standalone (`make ci-volume`): its own lab (profile disk), module 2 on it, taken down at the end. Inside the
# shared lab (ctest lab_volume, LAB_CI_FIXTURE=1): the running `ci` lab, minio-01 only.
# Prints "lab-ci-volume: N passed, N failed" last; artefacts in build/lab-ci-volume/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
source "$here/lib/disks.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-volume
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

ci_lab disk
host=$CI_HOSTS
[ -s "$DISK_DIR/$host-data.dev" ] || die "$host has no lab disk ($DISK_DIR/$host-data.dev): the lab was brought up without disks"
data_dev=$(cat "$DISK_DIR/$host-data.dev")
used_dev=$(cat "$DISK_DIR/$host-used.dev")
used_img="$DISK_DIR/$host-used.img"
spare_dev=$(cat "$DISK_DIR/$host-spare.dev")
SPARE_MOUNT=/opt/kbz-spare

# The server's state read out of band (docker exec: raw output, no kbz-install in the way of what is checked).
on_host() { docker exec -i "$LAB_NAME-$host" "$@"; }
# What is mounted at the volume's mount point: "SOURCE FSTYPE LABEL", empty when nothing.
mounted_at() { on_host findmnt -n -o SOURCE,FSTYPE,LABEL --mountpoint "$DISK_MOUNT" | awk 'NF == 3 {print $1, $2, $3; exit}'; }
uuid_of() { on_host blkid -p -s UUID -o value "$1" | awk 'NF {print; exit}'; }

volume_in_place() {
  local got; got=$(mounted_at)
  [ "$got" = "$data_dev xfs kbz-minio" ] || { warn "at $DISK_MOUNT: '$got', expected '$data_dev xfs kbz-minio'"; return 1; }
}

fstab_by_uuid() {
  local uuid; uuid=$(uuid_of "$data_dev")
  [ -n "$uuid" ] || { warn "$data_dev has no UUID"; return 1; }
  on_host cat /etc/fstab >"$CI_WORK/fstab"
  grep -qxF "UUID=$uuid $DISK_MOUNT xfs defaults,noatime,nofail 0 2" "$CI_WORK/fstab" ||
    { warn "no fstab line by UUID=$uuid for $DISK_MOUNT:"; cat "$CI_WORK/fstab" >&2; return 1; }
  echo "$uuid" >"$CI_WORK/uuid"
}

write_marker() {
  head -c 32 /dev/urandom | sha256sum | cut -c1-64 >"$CI_WORK/marker"
  on_host sh -c "cat >'$DISK_MOUNT/kbz-volume-proof'" <"$CI_WORK/marker"
}

marker_intact() {
  local got; got=$(on_host cat "$DISK_MOUNT/kbz-volume-proof")
  [ "$got" = "$(cat "$CI_WORK/marker")" ] || { warn "the file written before the restart reads '$got'"; return 1; }
  [ "$(uuid_of "$data_dev")" = "$(cat "$CI_WORK/uuid")" ] || { warn "$data_dev has a new UUID: it was formatted again"; return 1; }
}

restart_server() {
  docker restart "$LAB_NAME-$host" >/dev/null
  wait_until 120 "a login on $host after its restart" kbz exec --hosts "$host" -- true
  # Give systemd the time its boot takes to settle (the mount job, if any, gives up after 90 s).
  wait_until 120 "$host's boot to finish" on_host sh -c \
    'systemctl is-system-running | grep -qE "^(running|degraded)$"'
}

# After the restart: mounted by systemd (a real boot would), or not (a container has no udev): recorded.
after_restart() {
  if volume_in_place 2>/dev/null; then
    echo "mounted at boot by systemd" >"$CI_WORK/restart.txt"
  else
    echo "not mounted at boot (container without udev): re-apply mounts it from fstab" >"$CI_WORK/restart.txt"
  fi
  info "$(cat "$CI_WORK/restart.txt")"
}

# The lab's kbz.yaml with its volumes: table replaced by ENTRIES (lines). disks_yaml writes volumes: last.
kbz_yaml_with_volumes() {
  local out=$1; shift
  { sed '/^volumes:/,$d' "$LAB_DIR/kbz.yaml"; echo "volumes:"; printf '  - %s\n' "$@"; } >"$out"
}

# Two entries for one host: an input error (exit 2) before any host is touched, naming both.
two_volumes_refused() {
  kbz_yaml_with_volumes "$CI_WORK/kbz-two.yaml" "{hosts: $host, mount: $DISK_MOUNT, device: $data_dev}" \
    "{hosts: $host, mount: /opt/kbz-refused, device: $used_dev}"
  local rc=0
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-two.yaml" apply --module 2 --hosts "$host" >"$CI_WORK/apply-two.txt" 2>&1 || rc=$?
  ((rc == 2)) || { warn "exit $rc, expected 2"; cat "$CI_WORK/apply-two.txt" >&2; return 1; }
  grep -qF "volumes[0] ($host) and volumes[1] ($host) both match host $host" "$CI_WORK/apply-two.txt" ||
    { warn "the error does not name both entries:"; cat "$CI_WORK/apply-two.txt" >&2; return 1; }
}

# The host's volume on the ext4 disk instead: apply must refuse it and leave the disk untouched.
refuse_used_disk() {
  kbz_yaml_with_volumes "$CI_WORK/kbz-used.yaml" "{hosts: $host, mount: /opt/kbz-refused, min_gb: 0, device: $used_dev, required: true}"
  local before rc=0; before=$(sha256sum "$used_img" | cut -d' ' -f1)
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-used.yaml" apply --module 2 --hosts "$host" >"$CI_WORK/apply-used.txt" 2>&1 || rc=$?
  ((rc != 0)) || { warn "apply accepted a disk holding ext4"; return 1; }
  { grep -q "$used_dev" "$CI_WORK/apply-used.txt" && grep -qi "ext4" "$CI_WORK/apply-used.txt"; } ||
    { warn "the refusal does not name $used_dev and its ext4 filesystem:"; tail -n 20 "$CI_WORK/apply-used.txt" >&2; return 1; }
  [ "$(sha256sum "$used_img" | cut -d' ' -f1)" = "$before" ] || { warn "$used_img changed"; return 1; }
  on_host sh -c "! findmnt -n --source '$used_dev' && ! grep -q /opt/kbz-refused /etc/fstab" ||
    { warn "$used_dev got mounted or an fstab line"; return 1; }
}

# The spare disk as the host's volume instead (the data disk stays mounted where it is): plan says it formats it.
plan_formats() {
  kbz_yaml_with_volumes "$CI_WORK/kbz-spare.yaml" "{hosts: $host, mount: $SPARE_MOUNT, min_gb: 1, device: $spare_dev, label: kbz-spare, required: true}"
  kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-spare.yaml" plan --module 2 --hosts "$host" >"$CI_WORK/plan-spare.txt"
  grep -qF "format $spare_dev" "$CI_WORK/plan-spare.txt" ||
    { warn "plan does not say it formats $spare_dev:"; grep -i volume "$CI_WORK/plan-spare.txt" >&2; return 1; }
  on_host sh -c "[ -z \"\$(blkid -p -o export '$spare_dev')\" ]" || { warn "plan wrote to $spare_dev"; return 1; }
}
apply_spare() { kbz_with "$LAB_DIR/servers.tsv" "$CI_WORK/kbz-spare.yaml" apply --module 2 --hosts "$host" --json >"$1"; }
spare_in_place() {
  local got; got=$(on_host findmnt -n -o SOURCE,FSTYPE,LABEL --mountpoint "$SPARE_MOUNT" | awk 'NF == 3 {print $1, $2, $3; exit}')
  [ "$got" = "$spare_dev xfs kbz-spare" ] || { warn "at $SPARE_MOUNT: '$got', expected '$spare_dev xfs kbz-spare'"; return 1; }
  volume_in_place   # the data disk untouched, still where it was
}

check "module 2 formatted and mounted the blank disk ($data_dev: XFS, label kbz-minio, at $DISK_MOUNT)" volume_in_place
check "fstab mounts it by UUID with nofail" fstab_by_uuid
check "a file written on the volume" write_marker
check "apply --module 2 again" apply_json 2 "$CI_WORK/again.json" --hosts "$host"
check "re-apply: 0 changed" assert_json "$CI_WORK/again.json" true
check "restart of $host (docker restart)" restart_server
check "after the restart: mounted by systemd or not (recorded)" after_restart
check "apply --module 2 after the restart" apply_json 2 "$CI_WORK/after-restart.json" --hosts "$host"
check "the volume is mounted again" volume_in_place
check "the file written before the restart is there, same filesystem UUID" marker_intact
check "apply --module 2 once more" apply_json 2 "$CI_WORK/after-restart2.json" --hosts "$host"
check "re-apply after the restart: 0 changed" assert_json "$CI_WORK/after-restart2.json" true
check "two volumes entries for $host: exit 2 naming both, before any host is touched" two_volumes_refused
check "a disk holding ext4 is refused (named with its filesystem) and left intact" refuse_used_disk
check "plan with a blank spare disk as the volume says it would format $spare_dev (and writes nothing)" plan_formats
check "apply --module 2 formats it" apply_spare "$CI_WORK/spare.json"
check "spare disk: XFS label kbz-spare at $SPARE_MOUNT, data disk still mounted" spare_in_place
check "apply --module 2 again" apply_spare "$CI_WORK/spare2.json"
check "re-apply: 0 changed" assert_json "$CI_WORK/spare2.json" true
