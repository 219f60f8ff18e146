#!/usr/bin/env bash
# The real modules on the lab: `plan` and the no-op re-apply of modules 2 and 4 on the 5 servers of lab profile
# redis (redis-01..03, haproxy-01/02), with the remote execs per host (the engine's own counters, --json) and
# the server CPU per host: what the server container's cgroup (cpuacct, every process of that "server",
# its nested service containers included) spent during the run, minus what the same server spends idle over an
# equally long interval measured just before (Redis, Sentinel, dockerd and systemd keep ticking).
# Prints a markdown section (bench/RESULTS.md takes it). Run as root. See bench/README.md.
#   bench/lab-modules.sh [--runs R] [--bin PATH] [--reuse] [--keep] [--output FILE]
#     default: lab down, up --profile redis, images, apply --module 2 then 4 (~15 min), measure, lab down.
#     --reuse: the lab is up with modules 2 and 4 applied on those servers (LAB_INSTANCE as exported): measure.
#     --keep: leave the lab up at the end.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=3 REUSE=0 KEEP=0 OUTPUT="" BIN=""
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --bin) BIN=$2; shift ;;
    --reuse) REUSE=1 ;;
    --keep) KEEP=1 ;;
    --output) OUTPUT=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "usage: bench/lab-modules.sh [--runs R] [--bin PATH] [--reuse] [--keep] [--output FILE]" >&2; exit 2 ;;
  esac
  shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "--runs takes a positive number" >&2; exit 2; }
if [[ -n $BIN ]]; then KBZ_BIN=$(realpath "$BIN"); export KBZ_BIN; fi
# shellcheck source=../tests/lab/lib/common.sh
source "$BENCH_DIR/../tests/lab/lib/common.sh"
# shellcheck source=../tests/lab/lib/engine.sh
source "$BENCH_DIR/../tests/lab/lib/engine.sh"
# shellcheck source=../tests/lab/kbz.sh
source "$BENCH_DIR/../tests/lab/kbz.sh"
need_root
[ -x "$KBZ_BIN" ] || { echo "no kbz-install at $KBZ_BIN (build it, or --bin)" >&2; exit 2; }

HOSTS=$("$LAB_SRC/lab.sh" profiles redis)
SEL=$(tr ' ' ',' <<<"$HOSTS")
OUT=$(mktemp -d /tmp/kbz-bench-lab.XXXXXX)
finish() {
  ((KEEP || REUSE)) || "$LAB_SRC/lab.sh" down >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap finish EXIT

if ((!REUSE)); then
  install_host_packages
  echo "[bench-lab] lab up (profile redis), module 2 then 4 on $SEL: about 15 minutes" >&2
  "$LAB_SRC/lab.sh" down >/dev/null
  "$LAB_SRC/lab.sh" up --profile redis >"$OUT/up.log" 2>&1 || { tail -20 "$OUT/up.log" >&2; exit 1; }
  "$LAB_SRC/lab.sh" images redis haproxy >"$OUT/images.log" 2>&1 || { tail -20 "$OUT/images.log" >&2; exit 1; }
  rm -rf "$KBZ_WORKDIR"; mkdir -p "$KBZ_WORKDIR"
  for m in 2 4; do
    kbz apply --module "$m" --hosts "$SEL" --json >"$OUT/setup$m.json" 2>"$OUT/setup$m.err" ||
      { echo "apply --module $m failed during set-up:" >&2; tail -20 "$OUT/setup$m.err" >&2; exit 1; }
  done
fi

# CPU (seconds) each lab server's container has used so far: cgroup v1 cpuacct or v2 cpu.stat, by container id.
server_cpu() {
  local h id f
  for h in $HOSTS; do
    id=$(docker inspect -f '{{.Id}}' "$LAB_NAME-$h")
    for f in /sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage /sys/fs/cgroup/docker/$id/cpu.stat \
             /sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat; do
      [ -r "$f" ] || continue
      case $f in
        *cpuacct.usage) awk -v h="$h" '{ printf "%s %.4f\n", h, $1 / 1e9 }' "$f" ;;
        *) awk -v h="$h" '$1 == "usage_usec" { printf "%s %.4f\n", h, $2 / 1e6 }' "$f" ;;
      esac
      continue 2
    done
    echo "no cgroup CPU counter for $LAB_NAME-$h" >&2; return 1
  done
}
# per_host_delta BEFORE AFTER: "host seconds" lines, one per server.
per_host_delta() { join <(sort "$1") <(sort "$2") | awk '{ printf "%s %.4f\n", $1, $3 - $2 }'; }

RAW="$OUT/raw.tsv"   # one row per run and host: what module rep wall client_cpu execs_max execs_med changed host cpu idle
# measure_one WHAT MODULE REP: one timed kbz-install run (--json) with an idle baseline just before it.
measure_one() {
  local what=$1 m=$2 rep=$3 wall user sys summary
  # Idle baseline: the same servers over the previous run's wall time (5 s the first time).
  local idle_s=${LAST_WALL:-5}
  server_cpu >"$OUT/i0"; sleep "$idle_s"; server_cpu >"$OUT/i1"
  server_cpu >"$OUT/c0"
  /usr/bin/time -f '%e %U %S' -o "$OUT/time" "$KBZ_BIN" --inventory "$LAB_DIR/servers.tsv" \
    --config "$LAB_DIR/kbz.yaml" --known-hosts "$LAB_DIR/known_hosts" --identity "$LAB_DIR/ssh/id_ed25519" \
    --workdir "$KBZ_WORKDIR" "$what" --module "$m" --hosts "$SEL" --json >"$OUT/run.json" 2>"$OUT/run.err" ||
    { echo "$what --module $m exited non-zero:" >&2; tail -5 "$OUT/run.err" >&2; return 1; }
  server_cpu >"$OUT/c1"
  read -r wall user sys <"$OUT/time"
  LAST_WALL=$wall
  summary=$(/usr/bin/python3 "$BENCH_DIR/lib/apply_summary.py" "$OUT/run.json") || return 1
  # Per host: CPU during the run, and the idle rate scaled to the run's wall time (lab_report.py subtracts it).
  join <(per_host_delta "$OUT/c0" "$OUT/c1") <(per_host_delta "$OUT/i0" "$OUT/i1") |
    awk -v what="$what" -v m="$m" -v rep="$rep" -v w="$wall" -v c="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
        -v sum="$summary" -v is="$idle_s" 'BEGIN { OFS = "\t" } { print what, m, rep, w, c, sum, $1, $2, $3 * w / is }' >>"$RAW"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# One warm-up re-apply per module (the first after an apply that changed things also clears its notes).
for m in 2 4; do measure_one apply "$m" 0 || exit 1; done
for m in 2 4; do
  for ((r = 1; r <= RUNS; r++)); do
    measure_one plan "$m" "$r" || exit 1
    measure_one apply "$m" "$r" || exit 1
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
  /usr/bin/python3 "$BENCH_DIR/lib/lab_report.py" "$RAW" "$SEL" "$RUNS" "$load_before" "$load_after"
}
report | tee "$OUT/report.md"
[[ -z $OUTPUT ]] || cp "$OUT/report.md" "$OUTPUT"
# A no-op re-apply that changed something is not a benchmark of a no-op: say it and fail.
if grep -P '^apply\t\d+\t[1-9]\d*\t' "$RAW" | grep -vq 'changed=0;'; then
  echo "[bench-lab] a re-apply changed steps: not a no-op (see the 'steps changed' column)" >&2; exit 1
fi
