# shellcheck shell=bash
# One timed run = one row of $RAW (TSV): bench n tool rep rc wall_s user_s sys_s maxrss_kb server_cpu_s extra
# GNU time measures the tool's own process tree: user/sys include every child the tool waited for (pdsh's ssh
# processes, kbz-install's threads); %M is the peak RSS of the largest single process in that tree.
# server_cpu_s is what all the sshd daemons (and the sessions they ran) spent meanwhile: the hosts' side.
# Sourced by run.sh; expects: FARM, RAW.

# measure BENCH N TOOL REP -- COMMAND...   (stdout/stderr of the tool go to $FARM/last.{out,err})
# MEASURE_POST=FUNC: FUNC FILE prints the extra column from the tool's stdout (non-zero = output not understood).
measure() {
  local bench=$1 n=$2 tool=$3 rep=$4; shift 5
  local tf="$FARM/last.time" rc=0 server_before server_after
  server_before=$(farm_server_cpu)
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$FARM/last.out" 2>"$FARM/last.err" || rc=$?
  local wall user sys rss
  read -r wall user sys rss < <(tail -n 1 "$tf")
  server_after=$(farm_server_cpu)
  # A post-processor (apply --json parser) turns the tool's stdout into the "extra" column, e.g. execs=2;changed=0.
  local extra=-
  if [[ -n ${MEASURE_POST:-} ]] && ! extra=$("$MEASURE_POST" "$FARM/last.out"); then
    extra=unparsed
    ((rc != 0)) || rc=97  # exit 0 but output we cannot read: not a valid measurement
  fi
  if ((rc != 0)); then
    printf '[bench] %s %s n=%s rep=%s exited %d; stderr:\n' "$bench" "$tool" "$n" "$rep" "$rc" >&2
    head -n 5 "$FARM/last.err" >&2
  fi
  local server
  server=$(awk -v a="$server_before" -v b="$server_after" 'BEGIN { printf "%.2f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$n" "$tool" "$rep" "$rc" "$wall" "$user" "$sys" "$rss" \
    "$server" "$extra" >>"$RAW"
  return 0
}
