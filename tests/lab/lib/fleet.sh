# shellcheck shell=bash
# The lab fleet: one systemd+sshd container per lab host on this instance's bridge (kbz-lab, kbz-lab1, ...),
# and the files that tell kbz-install about it (.lab/servers.tsv, .lab/known_hosts, .lab/kbz.yaml,
# .lab/ssh/id_ed25519). Everything here acts on this LAB_INSTANCE only (lib/common.sh).

FLEET_TSV="$LAB_SRC/fleet.tsv"    # the real rows the lab copies (POOL/ROLE/SUBROLE/DOCKER_STACK...)

# Profiles: the smallest fleet each module under test needs (its CI's standalone profile), and `ci`: one
# fleet for every module's lab CI at once (tests/CMakeLists.txt, fixture "lab"). Lists, not sets: the order
# is the order of servers.tsv.
declare -A PROFILES=(
  [base]="db-master-01 redis-01 haproxy-01"
  [redis]="redis-01 redis-02 redis-03 haproxy-01 haproxy-02"                        # module 4
  [pg]="db-master-01 db-slave-01 db-slave-02 haproxy-01 haproxy-02"                 # module 3
  [rabbitmq]="queue-01 queue-02 queue-03 haproxy-01 haproxy-02"                     # module 5
  [galera]="maria-01 maria-02 maria-03 proxysql-01 proxysql-02"                     # modules 7, 8
  [minio]="minio-01 minio-02 minio-03"                                              # module 6 (plan only)
  [k8s]="k8s-master-01 k8s-master-02 k8s-master-03 k8s-worker-01"                  # module 9 (plan only)
  [k8s-ci]="k8s-master-01 k8s-worker-01"                                            # module 9 in the shared ci lab
  [disk]="minio-01"                                                                 # volume step on lab disks
  [full]="db-master-01 db-slave-01 db-slave-02 redis-01 redis-02 redis-03 queue-01 queue-02 queue-03
          maria-01 maria-02 maria-03 haproxy-01 haproxy-02"
  # redis + pg + rabbitmq + galera (every module the lab can run), minio-01..03 and one k8s master and
  # worker for `plan` of modules 6 and 9: 21 servers.
  [ci]="db-master-01 db-slave-01 db-slave-02 redis-01 redis-02 redis-03 queue-01 queue-02 queue-03
        maria-01 maria-02 maria-03 haproxy-01 haproxy-02 proxysql-01 proxysql-02
        minio-01 minio-02 minio-03 k8s-master-01 k8s-worker-01"
)

# Servers boot together; the boot wait fails when NO server finished booting for BOOT_TIMEOUT seconds (so a
# 24-server fleet on 2 busy cores gets the time it needs, and a stuck one still fails in bounded time).
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-90}
SSH_TIMEOUT=${LAB_SSH_TIMEOUT:-60}     # first successful key login, per server
PARALLEL=${LAB_PARALLEL:-4}            # servers created / removed at once (docker run is CPU-heavy here)

cname()  { echo "$LAB_NAME-$1"; }            # container name of a lab host
volname() { echo "$LAB_NAME-$1-docker"; }    # its /var/lib/docker volume (nested dockerd needs a real fs)

# fleet_field HOST COLUMN: one field of the host's real row (columns as in fleet.tsv's header).
fleet_field() {
  awk -F'\t' -v h="$1" -v col="$2" '
    /^#/ {next}
    !hdr { for (i = 1; i <= NF; i++) idx[$i] = i; hdr = 1; next }
    $1 == h { print $(idx[col]); found = 1; exit }
    END { if (!found) exit 1 }' "$FLEET_TSV"
}

lab_ip() {
  local real; real=$(fleet_field "$1" IP_PRIVEE) || die "no real row for host $1 in $FLEET_TSV"
  echo "$LAB_PREFIX.${real##*.}"
}

profile_hosts() {
  [ -n "${PROFILES[$1]+x}" ] || die "unknown profile '$1' (profiles: ${!PROFILES[*]})"
  echo ${PROFILES[$1]}
}

# This instance's lab containers that exist now (running or not), by lab hostname. Containers without the
# kbz-lab.instance label are instance 0's (made before LAB_INSTANCE existed).
existing_hosts() {
  docker ps -a --filter label=kbz-lab.host --format '{{.Label "kbz-lab.host"}}|{{.Label "kbz-lab.instance"}}' |
    awk -F'|' -v me="$LAB_INSTANCE" '{ i = ($2 == "" ? 0 : $2) } i == me {print $1}' | sort
}

ensure_network() {
  if docker network inspect "$LAB_NET" >/dev/null 2>&1; then
    local subnet
    subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$LAB_NET")
    [ "$subnet" = "$LAB_SUBNET" ] || die "network $LAB_NET exists with subnet $subnet, not $LAB_SUBNET: run 'lab.sh down'"
    return 0
  fi
  log "creating network $LAB_NET ($LAB_SUBNET, gateway $LAB_GATEWAY)"
  docker network create --driver bridge --subnet "$LAB_SUBNET" --gateway "$LAB_GATEWAY" \
    -o com.docker.network.bridge.name="$LAB_BRIDGE" "${LAB_LABELS[@]}" "$LAB_NET" >/dev/null \
    || die "could not create network $LAB_NET ($LAB_SUBNET): another docker network may use that subnet"
}

# What the lab servers may send beyond the lab network: apt (http/https) and DNS, nothing else.
# Docker's FORWARD rules already refuse new connections from outside to the lab (no published ports).
# DOCKER-USER is the chain docker leaves to us; -C first so repeated `up` adds nothing twice. Every rule names
# this instance's bridge, so instances add and remove only their own; -w: several labs may edit at once.
EGRESS_RULES=(
  "-i $LAB_BRIDGE -o $LAB_BRIDGE -j RETURN"
  "-i $LAB_BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
  "-i $LAB_BRIDGE -p tcp -m multiport --dports 80,443 -j RETURN"
  "-i $LAB_BRIDGE -p udp --dport 53 -j RETURN"
  "-i $LAB_BRIDGE -p tcp --dport 53 -j RETURN"
  "-i $LAB_BRIDGE -j DROP"
)
ensure_egress_rules() {
  local i rule
  for ((i = ${#EGRESS_RULES[@]} - 1; i >= 0; i--)); do   # -I 1 in reverse keeps the order above
    rule=${EGRESS_RULES[$i]}
    # shellcheck disable=SC2086  # the rule is a list of words on purpose
    iptables -w 30 -C DOCKER-USER $rule 2>/dev/null || iptables -w 30 -I DOCKER-USER 1 $rule
  done
}
remove_egress_rules() {
  local rule
  command -v iptables >/dev/null || return 0
  for rule in "${EGRESS_RULES[@]}"; do
    # shellcheck disable=SC2086
    while iptables -w 30 -D DOCKER-USER $rule 2>/dev/null; do :; done
  done
}

ensure_lab_key() {
  mkdir -p "$LAB_DIR/ssh"; chmod 700 "$LAB_DIR/ssh"
  [ -f "$LAB_DIR/ssh/id_ed25519" ] && return 0
  ssh-keygen -q -t ed25519 -N '' -C "kbz-lab@$(hostname)" -f "$LAB_DIR/ssh/id_ed25519"
}

# How every lab server runs (lab-notes: what lets systemd be PID 1 here, since --privileged fails).
# SYS_TIME is dropped on purpose: the kernel clock is the host's, and a lab server must not move it
# (timedatectl set-timezone made the kernel "warp" the whole machine's clock by the zone offset, once;
# chrony/ntp would step it). Without the capability those tools skip or log and carry on.
RUN_FLAGS=(
  --cap-add ALL --cap-drop SYS_RESOURCE --cap-drop SYS_TIME
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined
  --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --tmpfs /run --tmpfs /run/lock
)

# start_server HOST IMAGE: create the container, or start it again if it exists with the same image
# and flags (a changed image or flag set means a new server: recreate it).
start_server() {
  local host=$1 image=$2 c; c=$(cname "$host")
  local disks; mapfile -t disks < <(disk_run_flags "$host")
  local spec; spec=$(printf '%s ' "$image" "$(lab_ip "$host")" "${RUN_FLAGS[@]}" "${disks[@]}" | sha256sum | cut -c1-12)
  if docker container inspect "$c" >/dev/null 2>&1; then
    if [ "$(docker container inspect -f '{{index .Config.Labels "kbz-lab.spec"}}' "$c")" != "$spec" ]; then
      info "$host: server image or flags changed, recreating"
      remove_server "$host"
    else
      [ "$(docker container inspect -f '{{.State.Running}}' "$c")" = true ] || docker start "$c" >/dev/null
      return 0
    fi
  fi
  info "$host: starting $(lab_ip "$host")"
  docker volume create "${LAB_LABELS[@]}" --label kbz-lab.host="$host" "$(volname "$host")" >/dev/null
  docker run -d --name "$c" --hostname "$host" \
    --network "$LAB_NET" --ip "$(lab_ip "$host")" \
    "${LAB_LABELS[@]}" --label kbz-lab.host="$host" --label kbz-lab.spec="$spec" \
    "${RUN_FLAGS[@]}" "${disks[@]}" -v "$(volname "$host")":/var/lib/docker \
    "$image" >/dev/null || die "$host: docker run failed"
}

remove_server() {
  local host=$1
  docker rm -f "$(cname "$host")" >/dev/null 2>&1 || true
  docker volume rm -f "$(volname "$host")" >/dev/null 2>&1 || true
}

# Why a server did not come up, for the person reading the failure.
explain_server() {
  local c; c=$(cname "$1")
  warn "$1: last lines of its console (docker logs $c):"
  docker logs --tail 15 "$c" 2>&1 | sed 's/^/      /' >&2 || true
  docker exec "$c" systemctl --failed --no-legend 2>/dev/null | sed 's/^/      failed: /' >&2 || true
  timeout 10 "$DOCKER" exec "$c" systemctl list-jobs --no-legend 2>/dev/null | head -n 5 | sed 's/^/      waiting: /' >&2 || true
}

# Boot finished = systemd reached running or degraded and sshd has its host keys. One look, no wait:
# 0 = booted, 1 = not yet (its systemd state in BOOT_STATE[host]); a stopped container ends the run.
declare -A BOOT_STATE=()
server_booted() {
  local host=$1 c state; c=$(cname "$host")
  [ "$(docker container inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] \
    || { explain_server "$host"; die "$host: container stopped during boot"; }
  state=$(timeout 10 "$DOCKER" exec "$c" systemctl is-system-running 2>/dev/null || true)
  BOOT_STATE[$host]=${state:-none}
  case $state in
    running|degraded)
      docker exec "$c" test -s /etc/ssh/ssh_host_ed25519_key.pub || return 1
      [ "$state" = degraded ] && warn "$host: systemd degraded: $(docker exec "$c" systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
      return 0 ;;
  esac
  return 1
}

# wait_fleet_booted HOST...: poll every server still booting, once a second; as each one is booted, give it
# the lab key and read its host keys into known_hosts.tmp. Fails when none finished for BOOT_TIMEOUT seconds.
wait_fleet_booted() {
  local pending=("$@") next host t0=$SECONDS progress=$SECONDS
  : >"$LAB_DIR/known_hosts.tmp"
  while ((${#pending[@]})); do
    next=()
    for host in "${pending[@]}"; do
      if server_booted "$host"; then
        install_lab_key "$host"
        host_key_lines "$host" >>"$LAB_DIR/known_hosts.tmp"
        progress=$SECONDS
      else
        next+=("$host")
      fi
    done
    pending=("${next[@]}")
    ((${#pending[@]})) || break
    if ((SECONDS - progress >= BOOT_TIMEOUT)); then
      for host in "${pending[@]}"; do explain_server "$host"; warn "$host: systemd state ${BOOT_STATE[$host]:-none}"; done
      die "not booted: ${pending[*]} (no server finished booting for ${BOOT_TIMEOUT}s; LAB_BOOT_TIMEOUT)"
    fi
    sleep 1
  done
  info "$# servers booted in $((SECONDS - t0)) s"
}

# Production logs in as root with a key: put the lab key in root's authorized_keys (once).
install_lab_key() {
  local c; c=$(cname "$1")
  docker exec -i "$c" sh -c 'umask 077; mkdir -p /root/.ssh; k=$(cat); touch /root/.ssh/authorized_keys;
    grep -qxF "$k" /root/.ssh/authorized_keys || echo "$k" >>/root/.ssh/authorized_keys' \
    <"$LAB_DIR/ssh/id_ed25519.pub"
}

# known_hosts lines for HOST, read out of band through docker exec: no trust-on-first-use anywhere.
host_key_lines() {
  local host=$1 ip c; ip=$(lab_ip "$host"); c=$(cname "$host")
  docker exec "$c" sh -c 'cat /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_rsa_key.pub' \
    | awk -v ip="$ip" '{print ip, $1, $2}'
}

lab_ssh() {
  local ip=$1; shift
  ssh -i "$LAB_DIR/ssh/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
      -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
      -o StrictHostKeyChecking=yes -o LogLevel=ERROR "root@$ip" "$@"
}

wait_ssh() {
  local host=$1 ip; ip=$(lab_ip "$host")
  wait_until "$SSH_TIMEOUT" "ssh root@$ip ($host)" lab_ssh "$ip" true \
    || { explain_server "$host"; die "$host: no SSH login with the lab key after ${SSH_TIMEOUT}s"; }
}

# servers.tsv in the real format: the orchestrator row (this machine, the lab's gateway) then the servers.
write_inventory() {
  local out="$LAB_DIR/servers.tsv" host ip
  {
    printf 'ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_STACK\tCORE\tNOTES\n'
    for host in install-01 "$@"; do
      if [ "$host" = install-01 ]; then ip=$LAB_GATEWAY; else ip=$(lab_ip "$host"); fi
      printf 'prod\t%s\t%s\t%s\t%s\troot\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ip" "$host" "$ip" \
        "$(fleet_field "$host" FQDN)" "$(fleet_field "$host" POOL)" "$(fleet_field "$host" ROLE)" \
        "$(fleet_field "$host" SUBROLE)" "$(fleet_field "$host" DOCKER_STACK)" \
        "$(fleet_field "$host" CORE)" "$(fleet_field "$host" NOTES)"
    done
  } >"$out.tmp"
  mv "$out.tmp" "$out"
}

# The DNS servers the lab servers really use (docker's embedded resolver on a user network), checked to
# resolve Debian's archive from inside a server so modules that rewrite resolver settings keep a working one.
lab_dns_servers() {
  local c; c=$(cname "$1")
  local servers; servers=$(docker exec "$c" awk '$1 == "nameserver" {print $2}' /etc/resolv.conf | paste -sd' ')
  timeout 15 "$DOCKER" exec "$c" getent hosts deb.debian.org >/dev/null \
    || warn "$1: deb.debian.org does not resolve inside the lab (resolv.conf: $servers)"
  echo "$servers"
}

write_settings() {
  local first=$1 dns list="" s
  dns=$(lab_dns_servers "$first")
  for s in $dns; do list+="${list:+, }$s"; done
  {
    echo "# kbz.yaml for the local lab (written by tests/lab/lab.sh; do not edit, it is rewritten by 'up')."
    echo "network:"
    echo "  private_cidr: $LAB_SUBNET"
    echo "  admin_cidrs: [$LAB_GATEWAY/32]"
    echo "dns:"
    echo "  servers: [$list]"
    echo "timezone: Europe/Paris"
    echo "docker:"
    echo "  source: distribution"
    echo '  version: ""'
    bundle_images_yaml           # images: {...} for the service images built so far (lib/bundle.sh)
    bundle_postgres_yaml         # postgres: {uid, gid} of the lab postgres image (module 3)
    echo "image_bundle_dir: $LAB_DIR/bundle"
    # Module 5: a lab server's containers cannot raise nofile above this machine's hard limit (65536 in
    # production, often 20000 or 1048576 here).
    local nofile; nofile=$(ulimit -Hn); [[ $nofile =~ ^[0-9]+$ ]] && ((nofile < 65536)) || nofile=65536
    echo "rabbitmq: {nofile: $nofile}"
    echo "preflight: {dns_name: deb.debian.org}   # what the lab servers resolve (their apt source)"
    # Module 9 (plan only here): no load balancer in the lab, so the API endpoint is k8s-master-01's address.
    echo "k8s: {control_plane_endpoint: \"$LAB_PREFIX.100:6443\"}"
    echo "lab: true   # checks marked lab: (software the lab cannot have) are reported non testé dans le lab"
    # Module 7 on lab servers: rsync SST (what the lab has proven), small caches (3 nodes on a shared machine).
    echo "mariadb: {sst_method: rsync, gcache_size: 128M, innodb_buffer_pool_size: 128M}"
    disks_yaml                   # volumes: the lab disks of this profile (lib/disks.sh), if any
  } >"$LAB_DIR/kbz.yaml.tmp"
  mv "$LAB_DIR/kbz.yaml.tmp" "$LAB_DIR/kbz.yaml"
}

# ---- the commands ---------------------------------------------------------------------------------------

FLEET_IMAGE=""
start_fleet_server() { start_server "$1" "$FLEET_IMAGE"; }
remove_unwanted_server() { info "$1: not in the profile, removing"; remove_server "$1"; }

fleet_up() {
  local profile=$1 host
  local want; want=$(profile_hosts "$profile")
  build_server_image
  FLEET_IMAGE=$(server_image_tag)
  ensure_network
  ensure_egress_rules
  ensure_lab_key

  log "profile $profile ($(wc -w <<<"$want") servers, instance $LAB_INSTANCE, $LAB_SUBNET): $want"
  local extra=()
  for host in $(existing_hosts); do [[ " $want " == *" $host "* ]] || extra+=("$host"); done
  if ((${#extra[@]})); then
    run_bounded "$PARALLEL" remove_unwanted_server "${extra[@]}"
    [ -z "$RUN_FAILED" ] || die "could not remove $RUN_FAILED"
  fi
  for host in $(profile_disk_hosts "$profile"); do prepare_disks "$host"; done
  # shellcheck disable=SC2086  # $want is a list of host names
  run_bounded "$PARALLEL" start_fleet_server $want
  [ -z "$RUN_FAILED" ] || die "could not start $RUN_FAILED"

  log "waiting for systemd and sshd (fails after ${BOOT_TIMEOUT}s without a server finishing its boot; ${SSH_TIMEOUT}s per login)"
  # shellcheck disable=SC2086
  wait_fleet_booted $want
  mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
  for host in $want; do wait_ssh "$host"; info "$host: ssh ok ($(lab_ip "$host"))"; done

  write_inventory $want
  write_settings "${want%% *}"
  echo "$profile" >"$LAB_DIR/profile"
}

removing_server() { info "removing $1"; remove_server "$1"; }

fleet_down() {
  local hosts; hosts=$(existing_hosts)
  # shellcheck disable=SC2086  # a list of host names
  if [ -n "$hosts" ]; then
    run_bounded "$PARALLEL" removing_server $hosts
    [ -z "$RUN_FAILED" ] || warn "could not remove $RUN_FAILED"
  fi
  # Volumes of this instance's servers whose container is already gone (a crash between rm and volume rm):
  # by label, and by name for volumes made before the labels (the name pattern is this instance's only:
  # kbz-lab-* never matches kbz-lab1-*).
  docker volume ls --filter label=kbz-lab.host --format '{{.Name}}|{{.Label "kbz-lab.instance"}}' 2>/dev/null |
    awk -F'|' -v me="$LAB_INSTANCE" '{ i = ($2 == "" ? 0 : $2) } i == me {print $1}' |
    xargs -r "$DOCKER" volume rm -f >/dev/null || true
  remove_disks   # after the servers that held them
  docker volume ls -q 2>/dev/null | grep -- "^$LAB_NAME-.*-docker\$" | xargs -r "$DOCKER" volume rm -f >/dev/null || true
  if docker network inspect "$LAB_NET" >/dev/null 2>&1; then
    info "removing network $LAB_NET"
    docker network rm "$LAB_NET" >/dev/null || warn "could not remove network $LAB_NET"
  fi
  remove_egress_rules
}

fleet_status() {
  local profile="(none)" host c ip state
  [ -f "$LAB_DIR/profile" ] && profile=$(cat "$LAB_DIR/profile")
  echo "instance: $LAB_INSTANCE   profile: $profile   network: $LAB_NET $LAB_SUBNET   state: $LAB_DIR"
  printf '%-14s %-14s %-10s %-10s %s\n' HOST ADDRESS CONTAINER SYSTEMD SSH
  for host in $(existing_hosts); do
    c=$(cname "$host"); ip=$(lab_ip "$host")
    state=$(docker container inspect -f '{{.State.Status}}' "$c" 2>/dev/null || echo missing)
    local sd="-" ssh_ok="-"
    if [ "$state" = running ]; then
      sd=$(timeout 10 "$DOCKER" exec "$c" systemctl is-system-running 2>/dev/null || true)
      [ -f "$LAB_DIR/known_hosts" ] && lab_ssh "$ip" true 2>/dev/null && ssh_ok=ok || ssh_ok=FAIL
    fi
    printf '%-14s %-14s %-10s %-10s %s\n' "$host" "$ip" "$state" "${sd:-?}" "$ssh_ok"
  done
}
