# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Shared helpers for the lab scripts: paths, messages, bounded waits.
# Sourced, never run. Every wait in the lab goes through wait_until so nothing can hang.

LAB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"      # tests/lab
REPO_TOP="$(cd "$LAB_SRC/../.." && pwd)"
LAB_DIR="${LAB_DIR:-$REPO_TOP/.lab}"                             # all lab state (git-ignored)

# Several labs can run at once on one machine (one shared dockerd), one per LAB_INSTANCE (0-9, default 0).
# Instance 0 keeps the historical names: network kbz-lab 172.29.0.0/24, containers kbz-lab-<host>.
# Instance N>0: network kbz-labN 172.29.N.0/24, containers kbz-labN-<host>, bridge br-kbz-labN.
# Everything an instance creates carries the label kbz-lab.instance=N; listings and removals only see their own.
LAB_INSTANCE="${LAB_INSTANCE:-0}"
[[ $LAB_INSTANCE =~ ^[0-9]$ ]] || { printf 'lab: error: LAB_INSTANCE must be one digit 0-9, not "%s"\n' "$LAB_INSTANCE" >&2; exit 2; }
if ((LAB_INSTANCE == 0)); then LAB_NAME=kbz-lab; else LAB_NAME=kbz-lab$LAB_INSTANCE; fi

# The lab's network. Addresses are 172.29.N.<last octet of the real 10.0.0.x address>.
LAB_NET=$LAB_NAME
LAB_PREFIX=172.29.$LAB_INSTANCE
LAB_SUBNET=$LAB_PREFIX.0/24
LAB_GATEWAY=$LAB_PREFIX.1
LAB_BRIDGE=br-$LAB_NAME   # host-side bridge name, so firewall rules and `ip a` read clearly
LAB_LABELS=(--label kbz-lab=1 --label "kbz-lab.instance=$LAB_INSTANCE")   # on every object the lab creates

# Machine-wide locks (every checkout and instance shares one dockerd and its image store).
LAB_LOCK_DIR=${LAB_LOCK_DIR:-/run/lock}
LAB_IMAGES_LOCK=$LAB_LOCK_DIR/kbz-lab-images.lock   # building or removing the shared, content-tagged images
LAB_ENGINE_LOCK=$LAB_LOCK_DIR/kbz-lab-engine.lock   # starting / stopping the shared dockerd

# Debian's docker.io client, not whatever else is first in PATH: the lab installs and starts this engine,
# so client and daemon versions match.
DOCKER="${LAB_DOCKER:-/usr/bin/docker}"
docker() { "$DOCKER" "$@"; }

log()  { printf '==> %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die()  { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# wait_until SECONDS WHAT CMD...: re-run CMD every second until it succeeds; fail after SECONDS.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      warn "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 1
  done
}

# A short content hash used to tag cached images: same inputs -> same tag -> no rebuild.
hash_of() { cat "$@" | sha256sum | cut -c1-12; }

need_root() { [ "$(id -u)" -eq 0 ] || die "the lab needs root (docker, debootstrap, iptables)"; }

# Lock file descriptors: 9 = this checkout's $LAB_DIR/lock, 8 = images (machine-wide), 7 = engine (machine-wide).
# A process started by the lab that outlives it (dockerd) must be given none of them: `7>&- 8>&- 9>&-`.

# with_lock FD FILE SECONDS WHAT CMD...: run CMD holding an exclusive flock on FILE (fd FD), bounded wait.
# Re-entrant: when this shell already holds FD, CMD just runs.
declare -A LAB_LOCK_HELD=()
with_lock() {
  local fd=$1 file=$2 limit=$3 what=$4; shift 4
  if [ -n "${LAB_LOCK_HELD[$fd]:-}" ]; then "$@"; return; fi
  mkdir -p "$(dirname "$file")"
  eval "exec $fd>>\"\$file\""
  if ! flock -n "$fd"; then
    info "waiting for $what (another lab holds $file, at most ${limit}s)"
    flock -w "$limit" "$fd" || { eval "exec $fd>&-"; die "$what: $file still held after ${limit}s"; }
  fi
  LAB_LOCK_HELD[$fd]=1
  "$@"   # not `|| rc=$?`: that would switch set -e off inside CMD; a failure exits, and exit frees the lock
  unset 'LAB_LOCK_HELD[$fd]'
  eval "exec $fd>&-"
}

# run_bounded N FUNC ITEM...: FUNC ITEM for every ITEM, at most N at once (background subshells, so a `die`
# in one ends only that one). The items that failed are in RUN_FAILED afterwards; it always returns 0, so
# call it as a plain command, never in `if`/`||` (that would switch set -e off inside FUNC):
#   run_bounded 4 start_one a b c; [ -z "$RUN_FAILED" ] || die "could not start $RUN_FAILED"
# Only its own jobs are counted and waited for: the shell may have others (a dockerd it started).
RUN_FAILED=""
run_bounded() {
  local max=$1 fn=$2; shift 2
  local dir item p running pids=() bad=()
  dir=$(mktemp -d)
  for item in "$@"; do
    while :; do
      running=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && ((running += 1)); done
      ((running < max)) && break
      sleep 0.2
    done
    ("$fn" "$item"; touch "$dir/$item.ok") &   # set -e holds in the subshell: a failure skips the touch
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null || true
  for item in "$@"; do [ -e "$dir/$item.ok" ] || bad+=("$item"); done
  rm -rf "$dir"
  RUN_FAILED="${bad[*]}"
}
