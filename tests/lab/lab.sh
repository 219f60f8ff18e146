#!/usr/bin/env bash
# The kbz-install lab: Debian 12 "servers" in containers (systemd, sshd, apt, own addresses on the
# kbz-lab bridge 172.29.0.0/24) that kbz-install sees exactly like the production fleet.
#
#   lab.sh up [--profile NAME]   build what is missing, start the profile's servers, write .lab/servers.tsv
#                                .lab/known_hosts .lab/kbz.yaml .lab/ssh/id_ed25519 (profiles: lab.sh profiles)
#   lab.sh down [--purge]        remove servers, network, volumes, lab state (--purge: images too, and the
#                                dockerd the lab started, unless another lab instance still has servers)
#   lab.sh status                what runs, systemd state, whether the lab key logs in
#   lab.sh images [NAME...]      build service images (redis haproxy postgres rabbitmq mariadb)
#                                and save them into .lab/bundle/ for the air-gap upload
#   lab.sh ssh HOST [COMMAND...] log in to a lab server the way kbz-install does
#   lab.sh profiles [NAME]       list the profiles, or print the servers of one
#
# Environment: LAB_INSTANCE (0-9, default 0: several labs on one machine, network 172.29.N.0/24),
# LAB_DIR (default <repo>/.lab), LAB_KEEP_ON_FAILURE=1 (leave a failed `up` for debugging),
# LAB_BOOT_TIMEOUT (s without any server finishing its boot), LAB_SSH_TIMEOUT (s per server),
# LAB_PARALLEL (servers started at once, 4), LAB_DEBIAN_MIRROR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/lib/images.sh"
source "$here/lib/bundle.sh"
source "$here/lib/disks.sh"
source "$here/lib/fleet.sh"

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# One lab command at a time: two `up` racing would create the same containers twice.
take_lock() {
  mkdir -p "$LAB_DIR"
  exec 9>"$LAB_DIR/lock"
  flock -w 900 9 || die "another lab.sh holds $LAB_DIR/lock for more than 15 min"
}

# Lab state files (not the cached images, not the bundle, not the log of a dockerd still running).
# ci-fixture: the marker of the shared CI lab (tests/lab/lib/ci.sh).
remove_state() {
  rm -rf "$LAB_DIR"/servers.tsv "$LAB_DIR"/known_hosts* "$LAB_DIR"/kbz.yaml* "$LAB_DIR"/ssh \
         "$LAB_DIR"/profile "$LAB_DIR"/instance "$LAB_DIR"/ci-fixture "$LAB_DIR"/work "$LAB_DIR"/cache \
         "$LAB_DIR"/build-*.log "$LAB_DIR"/debootstrap.log
}

# LAB_DIR holds one lab's files (servers.tsv, keys, work/): the instance that wrote them, or none.
state_instance() { cat "$LAB_DIR/instance" 2>/dev/null || true; }
# A LAB_DIR whose files belong to another instance that still has servers: refuse to overwrite them.
check_state_instance() {
  local owner; owner=$(state_instance)
  [ -n "$owner" ] && [ "$owner" != "$LAB_INSTANCE" ] || return 0
  if engine_up && instance_has_servers "$owner"; then
    die "$LAB_DIR holds the files of lab instance $owner, which still runs: 'LAB_INSTANCE=$owner lab.sh down' first, or give this instance its own LAB_DIR"
  fi
}
instance_has_servers() {
  docker ps -a --filter label=kbz-lab.host --format '{{.Label "kbz-lab.instance"}}' |
    awk -v n="$1" '{ i = ($1 == "" ? 0 : $1) } i == n {f = 1} END {exit !f}'
}

cmd_up() {
  local profile=""
  while (($#)); do
    case $1 in
      --profile) profile=${2:?--profile needs a name}; shift 2 ;;
      --profile=*) profile=${1#*=}; shift ;;
      *) die "up: unknown argument '$1'" ;;
    esac
  done
  [ -n "$profile" ] || profile=$(cat "$LAB_DIR/profile" 2>/dev/null || echo base)
  profile_hosts "$profile" >/dev/null   # unknown profile: fail before doing anything
  need_root
  take_lock
  local t0=$SECONDS
  install_host_packages
  raise_host_limits
  start_engine
  check_state_instance
  echo "$LAB_INSTANCE" >"$LAB_DIR/instance"
  # A half-done `up` is worse than none: tear it down unless asked to keep it for a look.
  trap 'rc=$?; if ((rc != 0)); then
          if [ "${LAB_KEEP_ON_FAILURE:-0}" = 1 ]; then warn "up failed; lab left as is (LAB_KEEP_ON_FAILURE=1)";
          else warn "up failed; cleaning up (set LAB_KEEP_ON_FAILURE=1 to keep it)"; fleet_down; remove_state; fi
        fi' EXIT
  fleet_up "$profile"
  trap - EXIT
  log "lab up: instance $LAB_INSTANCE, profile $profile in $((SECONDS - t0)) s"
  cat <<MSG >&2
    inventory   $LAB_DIR/servers.tsv
    settings    $LAB_DIR/kbz.yaml
    known_hosts $LAB_DIR/known_hosts
    identity    $LAB_DIR/ssh/id_ed25519
MSG
}

cmd_down() {
  local purge=0
  case ${1:-} in --purge) purge=1 ;; "") ;; *) die "down: unknown argument '$1'" ;; esac
  need_root
  take_lock
  # After a crash dockerd may be gone while its containers still exist on disk: start it to remove them.
  # A subshell, so a dockerd that will not start still lets the rest of the cleanup run.
  if [ -x "$DOCKER" ] && ! engine_up; then ( start_engine ) || warn "no docker engine: containers left as they are"; fi
  local others
  if engine_up; then
    log "removing the servers, network and volumes of lab instance $LAB_INSTANCE"
    fleet_down
    if ((purge)); then with_image_lock purge_images; fi
  fi
  remove_egress_rules   # also when the engine is gone: the rules live in the host's iptables
  local owner; owner=$(state_instance)
  if [ -n "$owner" ] && [ "$owner" != "$LAB_INSTANCE" ]; then
    warn "$LAB_DIR holds the files of lab instance $owner: kept (LAB_INSTANCE=$owner lab.sh down removes them)"
  else
    remove_state
  fi
  if ((purge)); then
    rm -rf "$LAB_DIR/bundle"
    others=$(other_instances)
    if [ -n "$others" ]; then
      warn "dockerd left running: lab instance(s) $others still have servers"
    else
      stop_engine
    fi
  fi
  log "lab down (instance $LAB_INSTANCE)"
}

# The cached images are shared by every lab instance: kept while another instance still has servers.
# Under the image lock, so no other lab is building while they go.
purge_images() {
  local others; others=$(other_instances)
  if [ -n "$others" ]; then
    warn "images kept: lab instance(s) $others still have servers (they use the same images)"
    return 0
  fi
  log "removing the lab's images"
  docker images -q --filter label=kbz-lab=1 | sort -u | xargs -r "$DOCKER" rmi -f >/dev/null || true
  docker images --format '{{.Repository}}:{{.Tag}}' | grep '^kbz-lab/' | xargs -r "$DOCKER" rmi -f >/dev/null || true
}

cmd_status() {
  if ! engine_up; then echo "docker engine not running: lab is down"; return 0; fi
  local owner; owner=$(state_instance)
  [ -z "$owner" ] || [ "$owner" = "$LAB_INSTANCE" ] || warn "$LAB_DIR holds lab instance $owner's files, not $LAB_INSTANCE's (logins checked with its keys)"
  fleet_status
  [ -s "$BUNDLE_INDEX" ] && { echo "image bundle ($BUNDLE_DIR):"; cut -f1,2 "$BUNDLE_INDEX" | sed 's/^/  /'; }
  return 0
}

cmd_images() {
  need_root
  take_lock
  install_host_packages
  start_engine
  local name names=("$@")
  ((${#names[@]})) || names=("${SERVICE_NAMES[@]}")
  for name in "${names[@]}"; do build_service_image "$name"; done
  # Keep kbz.yaml's images: in step with the bundle when the lab is up.
  if [ -f "$LAB_DIR/kbz.yaml" ] && [ -f "$LAB_DIR/profile" ] && [ "$(state_instance)" = "$LAB_INSTANCE" ]; then
    local first; first=$(profile_hosts "$(cat "$LAB_DIR/profile")" | awk '{print $1}')
    docker container inspect "$(cname "$first")" >/dev/null 2>&1 && write_settings "$first"
  fi
  cat "$BUNDLE_INDEX"
}

cmd_profiles() {
  if (($#)); then profile_hosts "$1"; return; fi
  local p
  for p in $(printf '%s\n' "${!PROFILES[@]}" | sort); do printf '%-9s %2d  %s\n' "$p" "$(profile_hosts "$p" | wc -w)" "$(profile_hosts "$p")"; done
}

cmd_ssh() {
  local host=${1:?ssh: which host?}; shift
  [ -f "$LAB_DIR/known_hosts" ] || die "lab is not up"
  lab_ssh "$(lab_ip "$host")" "$@"
}

main() {
  local cmd=${1:-help}; (($#)) && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    images) cmd_images "$@" ;;
    ssh) cmd_ssh "$@" ;;
    profiles) cmd_profiles "$@" ;;
    help|-h|--help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
