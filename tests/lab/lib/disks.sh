# shellcheck shell=bash
# Lab data disks: loop devices handed to a lab server as block devices (`docker run --device`), so module 2's
# volume step (issue 15) formats, mounts and refuses real disks here; in production they are Hetzner volumes.
# A server listed in DISK_HOSTS[profile] gets two sparse files in $LAB_DIR/disks/, each on a loop device of
# the same name inside the server (so blkid and mount find it by UUID as on a real machine):
#   HOST-data.img  blank, the size of the team's volume for that host: module 2 must format and mount it
#   HOST-used.img  ext4 holding a file: the disk kbz-install must refuse and leave byte for byte intact
#   HOST-spare.img blank, 2 GB: a second first install (plan names it, apply formats it) while data stays mounted
# HOST-{data,used,spare}.dev name the loop devices; `lab down` detaches them and removes the files.

# minio-01: a server whose module (6) is plan-only here, so nothing runs on the mount the test unmounts.
declare -A DISK_HOSTS=([ci]="minio-01" [disk]="minio-01")
DISK_DIR="$LAB_DIR/disks"
# The team's layout for minio-* (kbz.yaml's default volumes): 100 GB at /opt/keybuzz/minio/data.
DISK_MOUNT=/opt/keybuzz/minio/data
DISK_DATA_GB=101

profile_disk_hosts() { echo "${DISK_HOSTS[$1]:-}"; }

# The loop device a file is attached to (empty when none).
loop_of() { losetup -j "$1" -n -O NAME 2>/dev/null | head -n 1; }

attach_loop() {
  local img=$1 dev
  dev=$(loop_of "$img")
  [ -n "$dev" ] || dev=$(losetup --find --show "$img") || die "cannot attach $img to a loop device (losetup)"
  echo "$dev"
}

# prepare_disks HOST: the two disk files (made once per lab up) and their loop devices.
prepare_disks() {
  local host=$1 data="$DISK_DIR/$1-data.img" used="$DISK_DIR/$1-used.img" spare="$DISK_DIR/$1-spare.img" seed
  command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || die "lab disks need losetup and mkfs.ext4 (util-linux, e2fsprogs)"
  mkdir -p "$DISK_DIR"
  [ -f "$data" ] || truncate -s "${DISK_DATA_GB}G" "$data"
  [ -f "$spare" ] || truncate -s 2G "$spare"
  if [ ! -f "$used" ]; then
    seed=$(mktemp -d)
    echo "kbz-install must never format this disk" >"$seed/keep-me.txt"
    mkfs.ext4 -q -F -L kbz-used -d "$seed" "$used" 64M
    rm -rf "$seed"
  fi
  attach_loop "$data" >"$DISK_DIR/$host-data.dev"
  attach_loop "$used" >"$DISK_DIR/$host-used.dev"
  attach_loop "$spare" >"$DISK_DIR/$host-spare.dev"
}

# disk_run_flags HOST: the --device flags of HOST's disks (none for a host without disks).
disk_run_flags() {
  local f
  for f in "$DISK_DIR/$1-data.dev" "$DISK_DIR/$1-used.dev" "$DISK_DIR/$1-spare.dev"; do
    [ -s "$f" ] && printf -- '--device\n%s\n' "$(cat "$f")"
  done
  return 0
}

# kbz.yaml's volumes: the lab disks, required (replaces the team's table, whose hosts have no disk here).
disks_yaml() {
  local f host
  compgen -G "$DISK_DIR/*-data.dev" >/dev/null || return 0
  echo "volumes:   # lab disks: loop devices passed into the server (tests/lab/lib/disks.sh)"
  for f in "$DISK_DIR"/*-data.dev; do
    host=$(basename "$f" -data.dev)
    echo "  - {hosts: $host, mount: $DISK_MOUNT, min_gb: $((DISK_DATA_GB - 1)), device: $(cat "$f"), required: true}"
  done
}

remove_disks() {
  local img dev
  [ -d "$DISK_DIR" ] || return 0
  for img in "$DISK_DIR"/*.img; do
    [ -f "$img" ] || continue
    while dev=$(loop_of "$img") && [ -n "$dev" ]; do
      losetup -d "$dev" || { warn "could not detach $dev ($img)"; break; }
    done
  done
  rm -rf "$DISK_DIR"
}
