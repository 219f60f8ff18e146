# shellcheck shell=bash
# The host side of the lab: Debian packages it needs and a running Docker engine.
# There is no init system on the build machines, so the lab starts dockerd itself and owns it.

HOST_PKGS=(docker.io debootstrap jq openssh-client iptables ca-certificates)

# Install what is missing, from Debian's archive only. Another apt-get may hold the dpkg lock
# (other helpers, unattended jobs): wait for it, bounded, rather than fail at once.
install_host_packages() {
  local missing=() p
  for p in "${HOST_PKGS[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -qq || die "apt-get update failed"
  timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

engine_up() { docker info >/dev/null 2>&1; }

# Every lab server's systemd, journald, logind, dockerd... takes inotify instances, all counted against root
# of this one kernel: with Debian's default of 128, about 15 servers exhaust them (units then fail with
# "Result: resources", "Too many open files"). Raise, never lower, the machine's limits (what kind and k3d
# users do for multi-node clusters); this is the only kernel setting the lab changes on the machine.
declare -A HOST_SYSCTL_MIN=([fs.inotify.max_user_instances]=2048 [fs.inotify.max_user_watches]=524288)
raise_host_limits() {
  local key now want
  for key in "${!HOST_SYSCTL_MIN[@]}"; do
    want=${HOST_SYSCTL_MIN[$key]}
    now=$(sysctl -n "$key" 2>/dev/null) || continue
    if ((now < want)); then
      info "raising $key from $now to $want (many lab servers share this kernel)"
      sysctl -q -w "$key=$want" || warn "could not raise $key (servers may fail with 'Too many open files')"
    fi
  done
}

# Start dockerd when no engine answers. Its log goes to .lab/dockerd.log; the pid we started is kept in
# .lab/dockerd.pid so `down --purge` stops only our own daemon. Under the machine-wide engine lock: two labs
# starting at once must not start two daemons.
start_engine() {
  engine_up && return 0
  with_lock 7 "$LAB_ENGINE_LOCK" 120 "the docker engine" start_engine_locked
}
start_engine_locked() {
  engine_up && return 0   # another lab started it while we waited for the lock
  [ -x "$DOCKER" ] || die "$DOCKER missing (apt-get install docker.io)"
  mkdir -p "$LAB_DIR"
  log "starting dockerd (log: $LAB_DIR/dockerd.log)"
  # setsid: the daemon must outlive this script and not get the terminal's Ctrl-C.
  # 7>&- 8>&- 9>&-: nor may it inherit the lab's locks: every later lab.sh would wait on them.
  setsid dockerd >>"$LAB_DIR/dockerd.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
  local pid=$!
  echo "$pid" >"$LAB_DIR/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until engine_up; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LAB_DIR/dockerd.log" >&2 || true
      die "dockerd exited at start (see $LAB_DIR/dockerd.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$LAB_DIR/dockerd.log" >&2 || true
      kill "$pid" 2>/dev/null || true
      die "dockerd did not answer within 60 s (see $LAB_DIR/dockerd.log)"
    fi
    sleep 1
  done
  info "dockerd ready (pid $pid)"
}

# Containers that keep the engine busy, apart from this instance's servers: running non-lab containers, and
# the servers (running or not) of other lab instances. A lab object without kbz-lab.instance is instance 0's
# (made before LAB_INSTANCE existed).
foreign_containers() {
  docker ps -a --format '{{.Names}}|{{.Label "kbz-lab.host"}}|{{.Label "kbz-lab.instance"}}|{{.State}}' 2>/dev/null |
    awk -F'|' -v me="$LAB_INSTANCE" '{ i = ($3 == "" ? 0 : $3) }
      ($2 == "" && $4 == "running") || ($2 != "" && i != me) {print $1}' | paste -sd' '
}
# Lab instances other than this one that have servers on the engine (running or not), e.g. "1 2".
other_instances() {
  docker ps -a --filter label=kbz-lab.host --format '{{.Label "kbz-lab.instance"}}' 2>/dev/null |
    awk -v me="$LAB_INSTANCE" '{ i = ($1 == "" ? 0 : $1) } i != me {print i}' | sort -u | paste -sd' '
}

# Stop the dockerd this lab started, and nothing else; and not while containers that are not this lab's
# servers exist on it (other lab instances and other tests share the engine).
stop_engine() {
  with_lock 7 "$LAB_ENGINE_LOCK" 120 "the docker engine" stop_engine_locked
}
stop_engine_locked() {
  local pidfile="$LAB_DIR/dockerd.pid" pid others
  [ -f "$pidfile" ] || return 0
  others=$(foreign_containers)
  if [ -n "$others" ]; then
    warn "dockerd left running: other containers use it ($others)"
    return 0
  fi
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
    log "stopping dockerd (pid $pid)"
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    kill -0 "$pid" 2>/dev/null && { warn "dockerd still running after 30 s, sending KILL"; kill -9 "$pid"; }
  fi
  rm -f "$pidfile"
}
