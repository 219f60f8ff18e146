#!/usr/bin/env bash
# kbz-install vs pdsh and Ansible on a farm of real OpenSSH daemons: fan-out, no-op re-apply (and the same 30
# steps as an Ansible playbook), parallel efficiency, scaling.
# Prints a markdown table (medians, ratios, targets). Run as root. See bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

usage() {
  cat <<USAGE
usage: bench/run.sh [options]
  --n N            hosts for fan-out, no-op and parallel benches (default 50)
  --runs R         repetitions per measurement, median reported (default 5)
  --scaling LIST   fan-out host counts for the scaling bench, comma-separated (default 10,50,100)
  --only WHAT      all | pdsh | kbz | ansible (default all; ansible = the farm and Ansible alone)
  --ansible-n A    hosts for the Ansible comparison (default: --n; 0 = no Ansible). Ansible is slow: at 50
                   hosts one no-op run takes minutes. kbz-install is measured again at A hosts when A != N
  --ansible-runs R Ansible no-op re-applies (default 1; the first apply is always one run)
  --bin PATH       kbz-install binary (default build/kbz-install)
  --fanout F       parallel connections for both tools' fan-out (pdsh -f, kbz --forks; default 64)
  --net A.B.C      address block of the daemons, A.B.C.1..max (default 127.0.1)
  --output FILE    also write the markdown report to FILE (e.g. bench/RESULTS.md) and the raw timings
                   (one row per run) to FILE with .tsv instead of .md
  --note TEXT      a line added to the report (where the binary came from, what else ran on the machine)
  --smoke          quick proof that everything runs: N=5, 1 run, scaling 2,5, Ansible on 1 host when
                   ansible-playbook is installed, skipped otherwise (for CI; Ansible's ~30 tasks x python
                   start-up cost ~1 min on their own; --ansible-n 0 skips them)
USAGE
}

N=50 RUNS=5 SCALING=10,50,100 ONLY=all BIN=build/kbz-install FANOUT=64 NET=127.0.1 OUTPUT="" NOTE="" SMOKE=0
ANSIBLE_N="" ANSIBLE_RUNS=1
while (($#)); do
  case $1 in
    --n) N=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --scaling) SCALING=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --bin) BIN=$2; shift ;;
    --fanout) FANOUT=$2; shift ;;
    --net) NET=$2; shift ;;
    --output) OUTPUT=$2; shift ;;
    --note) NOTE=$2; shift ;;
    --ansible-n) ANSIBLE_N=$2; shift ;;
    --ansible-runs) ANSIBLE_RUNS=$2; shift ;;
    --smoke) SMOKE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
if ((SMOKE)); then N=5 RUNS=1 SCALING=2,5 ANSIBLE_RUNS=1 ANSIBLE_N=${ANSIBLE_N:-1}; fi
ANSIBLE_N=${ANSIBLE_N:-$N}
case $ONLY in all|pdsh|kbz|ansible) ;; *) echo "--only: all, pdsh, kbz or ansible" >&2; exit 2 ;; esac
[[ $N =~ ^[0-9]+$ && $RUNS =~ ^[0-9]+$ && $FANOUT =~ ^[0-9]+$ && $SCALING =~ ^[0-9,]+$ ]] \
  || { echo "--n, --runs, --fanout, --scaling take numbers" >&2; exit 2; }
[[ $ANSIBLE_N =~ ^[0-9]+$ && $ANSIBLE_RUNS =~ ^[0-9]+$ ]] || { echo "--ansible-n, --ansible-runs take numbers" >&2; exit 2; }
[[ $NET =~ ^127\.[0-9]+\.[0-9]+$ ]] || { echo "--net must be a 127.x.y block (loopback only)" >&2; exit 2; }
((EUID == 0)) || { echo "run as root (it starts sshd and creates the bench user)" >&2; exit 2; }

want() { [[ $ONLY == all || $ONLY == "$1" ]]; }
want ansible || ANSIBLE_N=0
if want kbz; then
  [[ $BIN == /* ]] || BIN="$REPO_DIR/$BIN"
  [[ -x $BIN ]] || { echo "kbz-install binary not found: $BIN (build it, or --only pdsh)" >&2; exit 2; }
fi
if want pdsh; then command -v pdsh >/dev/null || { echo "pdsh missing: apt-get install pdsh" >&2; exit 2; }; fi
if want ansible && ((ANSIBLE_N > 0)) && ! command -v ansible-playbook >/dev/null; then
  # The smoke run (CI) proves the rest of the bench without it; a measuring run refuses.
  if ((SMOKE)); then
    echo "[bench] ansible-playbook missing (scripts/install-deps.sh installs ansible-core): Ansible skipped" >&2
    ANSIBLE_N=0
  else
    echo "ansible-playbook missing: scripts/install-deps.sh (ansible-core), or --ansible-n 0" >&2; exit 2
  fi
fi
[[ -x /usr/bin/time ]] || { echo "GNU time missing: apt-get install time" >&2; exit 2; }

BENCH_USER=kbzbench
FARM=$(mktemp -d /tmp/kbz-bench.XXXXXX)
RAW="$FARM/raw.tsv"
: >"$RAW"
# shellcheck source=bench/lib/farm.sh
source "$BENCH_DIR/lib/farm.sh"
# shellcheck source=bench/lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
# shellcheck source=bench/lib/ansible.sh
source "$BENCH_DIR/lib/ansible.sh"
trap 'ansible_teardown; farm_teardown' EXIT
trap 'exit 130' INT TERM

# Every host count we need, the biggest decides how many daemons run.
IFS=, read -r -a SCALE_NS <<<"$SCALING"
MAX_N=$N
((ANSIBLE_N > MAX_N)) && MAX_N=$ANSIBLE_N
for n in "${SCALE_NS[@]}"; do ((n > MAX_N)) && MAX_N=$n; done
((MAX_N <= 254)) || { echo "at most 254 hosts per --net block" >&2; exit 2; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
farm_user
farm_client_key
farm_start "$MAX_N"
farm_probe
for n in $(printf '%s\n' "$N" "$ANSIBLE_N" "${SCALE_NS[@]}" | sort -nu); do ((n > 0)) || continue; farm_inventory "$n" "$FARM/servers-$n.tsv"; done

# --- the two tools, same key, same user, same strict known_hosts ---------------------------------------------
# pdsh -R ssh runs, per host: ssh -oConnectTimeout=10 $PDSH_SSH_ARGS_APPEND -2 -a -x -l<pdsh -l user> HOST CMD
# (seen in ps during a run).
export PDSH_SSH_ARGS_APPEND="-i $KEY -o UserKnownHostsFile=$KH -o GlobalKnownHostsFile=/dev/null \
-o StrictHostKeyChecking=yes -o BatchMode=yes"
# Both build the command line in CMD (GNU time needs a real program, not a shell function).
pdsh_cmd() {  # pdsh_cmd N FORKS COMMAND
  CMD=(pdsh -S -R ssh -f "$2" -l "$BENCH_USER" -w "$(farm_hostlist "$1")" "$3")
}
kbz_cmd() {  # kbz_cmd N FORKS ARGS...
  local n=$1 forks=$2; shift 2
  CMD=("$BIN" --inventory "$FARM/servers-$n.tsv" --config "$BENCH_DIR/kbz.yaml" --env bench
       --known-hosts "$KH" --identity "$KEY" --workdir "$FARM/work-$n" --forks "$forks"
       --modules-dir "$BENCH_DIR/modules" "$@")
}
# apply --json -> "execs_max=..;execs_med=..;changed=..;failed=..;hosts=.."
apply_summary() { /usr/bin/python3 "$BENCH_DIR/lib/apply_summary.py" "$1"; }

# Alternate which tool goes first on each repetition so neither always runs on a warmer machine.
fanout_pair() {  # fanout_pair BENCH N REP
  local bench=$1 n=$2 rep=$3 order=(kbz pdsh)
  ((rep % 2)) || order=(pdsh kbz)
  for tool in "${order[@]}"; do
    want "$tool" || continue
    if [[ $tool == kbz ]]; then kbz_cmd "$n" "$FANOUT" exec -- true; else pdsh_cmd "$n" "$FANOUT" true; fi
    measure "$bench" "$n" "$tool" "$rep" -- "${CMD[@]}"
  done
}

log() { printf '[bench] %s\n' "$*" >&2; }

# --- warm-up (not recorded): first logins, binaries in page cache ------------------------------------------
log "warm-up"
if want pdsh; then pdsh_cmd "$MAX_N" "$FANOUT" true; "${CMD[@]}" || log "pdsh warm-up failed (exit $?)"; fi
if want kbz; then kbz_cmd "$MAX_N" "$FANOUT" exec -- true; "${CMD[@]}" >/dev/null || log "kbz warm-up failed (exit $?)"; fi

# --- 1 + 4. fan-out at N and at each scaling size ----------------------------------------------------------
for n in $(printf '%s\n' "$N" "${SCALE_NS[@]}" | sort -nu); do
  log "fan-out: true on $n hosts, $RUNS runs"
  for ((rep = 1; rep <= RUNS; rep++)); do fanout_pair fanout "$n" "$rep"; done
done

# --- 2. no-op re-apply (kbz only: pdsh has no notion of a module) -------------------------------------------
if want kbz; then
  log "no-op: module 90 first apply, then $RUNS re-applies on $N hosts"
  rm -rf "$BENCH_HOME/kbz-bench"
  kbz_cmd "$N" "$FANOUT" --json apply --module 90
  MEASURE_POST=apply_summary measure noop-first "$N" kbz 1 -- "${CMD[@]}"
  for ((rep = 1; rep <= RUNS; rep++)); do MEASURE_POST=apply_summary measure noop "$N" kbz "$rep" -- "${CMD[@]}"; done
fi

# --- 2b. the same 30 steps as an Ansible playbook, first apply and no-op re-apply, at ANSIBLE_N hosts ----------
if ((ANSIBLE_N > 0)); then
  ansible_setup "$ANSIBLE_N"
  export ANSIBLE_CONFIG="$FARM/ansible/ansible.cfg"
  if want kbz && ((ANSIBLE_N != N)); then
    log "ansible comparison: kbz-install module 90 first apply, then $RUNS re-applies on $ANSIBLE_N hosts"
    rm -rf "$BENCH_HOME/kbz-bench"
    kbz_cmd "$ANSIBLE_N" "$FANOUT" --json apply --module 90
    MEASURE_POST=apply_summary measure noop-first "$ANSIBLE_N" kbz 1 -- "${CMD[@]}"
    for ((rep = 1; rep <= RUNS; rep++)); do
      MEASURE_POST=apply_summary measure noop "$ANSIBLE_N" kbz "$rep" -- "${CMD[@]}"
    done
  fi
  log "ansible: playbook (30 tasks) first apply, then $ANSIBLE_RUNS re-applies on $ANSIBLE_N hosts, forks $FANOUT"
  rm -rf "$BENCH_HOME/ansible-bench"
  ansible_cmd "$ANSIBLE_N"
  MEASURE_POST=ansible_summary measure noop-first "$ANSIBLE_N" ansible 1 -- "${CMD[@]}"
  for ((rep = 1; rep <= ANSIBLE_RUNS; rep++)); do
    MEASURE_POST=ansible_summary measure noop "$ANSIBLE_N" ansible "$rep" -- "${CMD[@]}"
  done
fi

# --- 3. parallel efficiency: every host sleeps 2 s, all at once ---------------------------------------------
PAR_FORKS=$((N > FANOUT ? N : FANOUT))
log "parallel: sleep 2 on $N hosts, forks $PAR_FORKS, $RUNS runs"
for ((rep = 1; rep <= RUNS; rep++)); do
  if want kbz; then
    rm -f "$BENCH_HOME"/kbz-bench/*/slept   # the step's check looks for this marker: remove it so apply sleeps
    kbz_cmd "$N" "$PAR_FORKS" --json apply --module 91
    MEASURE_POST=apply_summary measure sleep "$N" kbz "$rep" -- "${CMD[@]}"
  fi
  if want pdsh; then pdsh_cmd "$N" "$PAR_FORKS" 'sleep 2'; measure sleep "$N" pdsh "$rep" -- "${CMD[@]}"; fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ------------------------------------------------------------------------------------------------
export BENCH_ANSIBLE_N=$ANSIBLE_N BENCH_ANSIBLE_RUNS=$ANSIBLE_RUNS
BENCH_ANSIBLE=$( ((ANSIBLE_N > 0)) && ansible-playbook --version 2>/dev/null | head -n 1 || echo -)
export BENCH_ANSIBLE
export BENCH_N=$N BENCH_RUNS=$RUNS BENCH_FANOUT=$FANOUT BENCH_PAR_FORKS=$PAR_FORKS BENCH_ONLY=$ONLY BENCH_SMOKE=$SMOKE
export BENCH_LOAD_BEFORE=$LOAD_BEFORE BENCH_LOAD_AFTER=$LOAD_AFTER
BENCH_NPROC=$(nproc)
BENCH_MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
BENCH_CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
BENCH_KERNEL=$(uname -srm)
BENCH_SSH=$(ssh -V 2>&1)
BENCH_PDSH=$(pdsh -V 2>&1 | head -n 1)
# The commit of the checkout the binary was built in (build/ sits inside it), not necessarily this one's.
BENCH_COMMIT=-
if want kbz; then
  BENCH_COMMIT=$(git -C "$(dirname "$BIN")" describe --always --dirty 2>/dev/null || echo "unknown ($BIN)")
fi
BENCH_KBZ_VERSION=$(want kbz && "$BIN" --version 2>/dev/null || echo -)
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
BENCH_PRIVATE_RUN=$( ((FARM_PRIVATE_RUN)) && echo yes || echo "no (unshare unavailable)")
BENCH_NOTE=$NOTE
export BENCH_NOTE BENCH_PRIVATE_RUN BENCH_NPROC BENCH_MEM BENCH_CPU BENCH_KERNEL BENCH_SSH BENCH_PDSH BENCH_COMMIT BENCH_KBZ_VERSION BENCH_DATE
report=$(/usr/bin/python3 "$BENCH_DIR/lib/report.py" "$RAW")
printf '%s\n' "$report"
if [[ -n $OUTPUT ]]; then
  printf '%s\n' "$report" >"$OUTPUT"
  { printf 'bench\tn\ttool\trep\trc\twall_s\tuser_s\tsys_s\tmaxrss_kb\tserver_cpu_s\textra\n'; cat "$RAW"; } >"${OUTPUT%.md}.tsv"
fi
# Exit 1 only when a tool failed to run (a missed time target is a result, not a failure).
! cut -f5 "$RAW" | grep -qv '^0$'
