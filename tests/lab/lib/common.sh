# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Shared helpers for the lab scripts: paths, messages, bounded waits.
# Sourced, never run. Every wait in the lab goes through wait_until so nothing can hang.

LAB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"      # tests/lab
REPO_TOP="$(cd "$LAB_SRC/../.." && pwd)"
LAB_DIR="${LAB_DIR:-$REPO_TOP/.lab}"                             # all lab state (git-ignored)

# The lab's network. Addresses are 172.29.0.<last octet of the real 10.0.0.x address>.
LAB_NET=kbz-lab
LAB_SUBNET=172.29.0.0/24
LAB_GATEWAY=172.29.0.1
LAB_PREFIX=172.29.0
LAB_BRIDGE=br-kbz-lab     # host-side bridge name, so firewall rules and `ip a` read clearly

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
