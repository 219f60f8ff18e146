# shellcheck shell=bash
# The sshd farm: N real OpenSSH daemons on NET.1 .. NET.N (port 22), one test user, one client key, a strict
# known_hosts built from the daemons' own host keys, and a servers.tsv in the real 12-column format.
# Everything lives under $FARM (a temp dir) and is undone by farm_teardown (called from run.sh's EXIT trap).
# Sourced by run.sh; expects: FARM, NET, BENCH_USER.

FARM_PIDS=()            # pid files of the daemons we started (teardown kills exactly these)
FARM_CREATED_USER=0     # 1 = the user did not exist before us: remove it at the end
FARM_CREATED_SUDOERS=0

farm_log() { printf '[farm] %s\n' "$*" >&2; }
farm_die() { printf '[farm] ERROR: %s\n' "$*" >&2; exit 1; }

# The dedicated user: /bin/sh, a '*' password (a locked '!' account is refused by sshd even with a key when
# UsePAM is off), passwordless sudo because the engine runs steps as root through `sudo -n`.
farm_user() {
  if ! id "$BENCH_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/sh -p '*' "$BENCH_USER" || farm_die "useradd $BENCH_USER failed"
    FARM_CREATED_USER=1
  fi
  BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
  # The bench modules write under this path (module.yaml cannot know the home directory).
  [[ $BENCH_HOME == "/home/$BENCH_USER" ]] || farm_die "$BENCH_USER's home is $BENCH_HOME, the bench modules expect /home/$BENCH_USER"
  if [[ ! -e /etc/sudoers.d/$BENCH_USER ]]; then
    local tmp; tmp=$(mktemp)
    printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$BENCH_USER" >"$tmp"
    visudo -cqf "$tmp" || farm_die "sudoers drop-in does not validate"
    install -m 0440 "$tmp" "/etc/sudoers.d/$BENCH_USER"; rm -f "$tmp"
    FARM_CREATED_SUDOERS=1
  fi
  install -d -m 0700 -o "$BENCH_USER" -g "$BENCH_USER" "$BENCH_HOME/.ssh"
}

# Client key (root reads it: the tools run as root, like CI) and the user's authorized_keys.
farm_client_key() {
  ssh-keygen -q -t ed25519 -N '' -C kbzbench-client -f "$FARM/client_ed25519" || farm_die "ssh-keygen failed"
  install -m 0600 -o "$BENCH_USER" -g "$BENCH_USER" "$FARM/client_ed25519.pub" "$BENCH_HOME/.ssh/authorized_keys"
  KEY="$FARM/client_ed25519"
}

# Every bench host is this same machine, but a real host has its own /run: the engine keeps its host lock
# there (/run/kbz-install.lock), and a shared one would let bench hosts (and any other kbz-install test run on
# this machine) see each other's locks. So each daemon gets a private mount namespace with a fresh /run tmpfs
# (which also vanishes with the daemon: no stale lock survives a killed run). Without unshare, hosts share /run.
FARM_PRIVATE_RUN=0
farm_sshd() {
  local dir=$1
  if ((FARM_PRIVATE_RUN)); then
    # shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
    unshare --mount --propagation private sh -c \
      'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -f "$1" -E "$2"' \
      sh "$dir/sshd_config" "$dir/sshd.log"
  else
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  fi
}

# One daemon per address; refuses to start over an address that already has a listener on port 22
# (another test run, a real sshd): never share a farm by accident.
farm_start() {
  local count=$1 i ip dir
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  if unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run' 2>/dev/null; then
    FARM_PRIVATE_RUN=1
  else
    farm_log "WARNING: unshare --mount unavailable: all bench hosts share this machine's /run (and the engine's host lock)"
  fi
  KH="$FARM/known_hosts"; : >"$KH"
  ! ss -Hltn 'src 0.0.0.0:22' | grep -q . || farm_die "an sshd listens on 0.0.0.0:22: it would take the farm's addresses"
  for ((i = 1; i <= count; i++)); do
    ip="$NET.$i"
    if ss -Hltn "src $ip:22" | grep -q .; then
      farm_die "$ip:22 already has a listener; use --net to pick another 127.x.y block"
    fi
    dir="$FARM/hosts/$i"; mkdir -p "$dir"
    ssh-keygen -q -t ed25519 -N '' -C "bench-$i" -f "$dir/ssh_host_ed25519_key" || farm_die "host key $i"
    cat >"$dir/sshd_config" <<CONF
ListenAddress $ip:22
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $BENCH_USER
PermitRootLogin no
UseDNS no
PrintMotd no
X11Forwarding no
MaxStartups 200:30:400
MaxSessions 20
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
    farm_sshd "$dir" || farm_die "sshd $ip did not start: $(cat "$dir/sshd.log" 2>/dev/null)"
    FARM_PIDS+=("$dir/sshd.pid")
    # known_hosts straight from the host key we just made: both tools check host keys strictly.
    printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >>"$KH"
  done
  # sshd writes its pid file once it listens; wait for all of them (bounded).
  local waited=0
  for ((i = 1; i <= count; i++)); do
    while [[ ! -s "$FARM/hosts/$i/sshd.pid" ]]; do
      ((waited++ < 100)) || farm_die "sshd $NET.$i wrote no pid file: $(cat "$FARM/hosts/$i/sshd.log")"
      sleep 0.05
    done
  done
  farm_log "$count sshd started on $NET.1..$NET.$count"
}

# servers.tsv with the first N hosts (real 12-column format; both address columns point at the farm).
farm_inventory() {
  local count=$1 out=$2 i
  printf 'ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_STACK\tCORE\tNOTES\n' >"$out"
  for ((i = 1; i <= count; i++)); do
    printf 'bench\t%s\tbench-%03d\t%s\tbench-%03d.bench.invalid\t%s\tbench\tapp\tbench\tnone\tno\tsshd de banc %d\n' \
      "$NET.$i" "$i" "$NET.$i" "$i" "$BENCH_USER" "$i" >>"$out"
  done
}

# Comma-separated address list for pdsh -w.
farm_hostlist() {
  local count=$1 i list=""
  for ((i = 1; i <= count; i++)); do list+="${list:+,}$NET.$i"; done
  printf '%s' "$list"
}

# Proves one daemon lets the user in with the key and a strict known_hosts before measuring anything.
farm_probe() {
  ssh -i "$KEY" -o UserKnownHostsFile="$KH" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 -l "$BENCH_USER" "$NET.1" 'sudo -n true && echo ok' 2>&1 | grep -qx ok \
    || farm_die "probe ssh $BENCH_USER@$NET.1 failed; see $FARM/hosts/1/sshd.log"
}

# CPU seconds the daemons have spent so far, their finished sessions included (a listener reaps each session,
# whose processes reap theirs: cutime/cstime of the listeners add up all the server-side work: sshd, sudo, sh).
farm_server_cpu() {
  local pf pids=()
  for pf in "${FARM_PIDS[@]}"; do [[ -s $pf ]] && pids+=("/proc/$(cat "$pf")/stat"); done
  # After the ") " that closes the command name, fields 12-15 are utime stime cutime cstime (clock ticks).
  cat "${pids[@]}" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" \
    '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f", t / hz }'
}

# Kill exactly the daemons we started (by pid file), then remove what we created. Safe to call twice.
farm_teardown() {
  local pf pid
  for pf in "${FARM_PIDS[@]}"; do
    [[ -s $pf ]] || continue
    pid=$(cat "$pf")
    kill "$pid" 2>/dev/null || true
  done
  FARM_PIDS=()
  if ((FARM_CREATED_SUDOERS)); then rm -f "/etc/sudoers.d/$BENCH_USER"; FARM_CREATED_SUDOERS=0; fi
  if ((FARM_CREATED_USER)); then
    # Sessions end with their client; give stragglers a moment before removing the account.
    local tries=0
    while pgrep -u "$BENCH_USER" >/dev/null && ((tries++ < 20)); do sleep 0.1; done
    userdel -r "$BENCH_USER" 2>/dev/null || farm_log "userdel $BENCH_USER failed (processes left?)"
    FARM_CREATED_USER=0
  fi
  [[ -n ${FARM:-} && -d $FARM ]] && rm -rf "$FARM"
}
