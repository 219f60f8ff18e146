# shellcheck shell=bash
# Sourced by demo.sh and ci-module2.sh: run kbz-install against the lab with the lab's flags.
# KBZ_BIN overrides the binary (default build/kbz-install); the workdir is .lab/work.
KBZ_BIN="${KBZ_BIN:-$REPO_TOP/build/kbz-install}"
KBZ_WORKDIR="$LAB_DIR/work"

kbz() {
  "$KBZ_BIN" --inventory "$LAB_DIR/servers.tsv" --config "$LAB_DIR/kbz.yaml" \
    --known-hosts "$LAB_DIR/known_hosts" --identity "$LAB_DIR/ssh/id_ed25519" \
    --workdir "$KBZ_WORKDIR" "$@"
}

# kbz_with INVENTORY CONFIG ARGS...: kbz-install with another inventory or kbz.yaml than the lab's (same keys,
# same workdir).
kbz_with() {
  local inv=$1 cfg=$2; shift 2
  "$KBZ_BIN" --inventory "$inv" --config "$cfg" --known-hosts "$LAB_DIR/known_hosts" \
    --identity "$LAB_DIR/ssh/id_ed25519" --workdir "$KBZ_WORKDIR" "$@"
}

# Configure (once) and build kbz-install into build/; ninja skips what is up to date.
build_kbz() {
  [ -f "$REPO_TOP/build/build.ninja" ] || cmake -S "$REPO_TOP" -B "$REPO_TOP/build" -G Ninja
  ninja -C "$REPO_TOP/build" -j"${JOBS:-2}" kbz-install
}

# The last lines of the newest kbz-install logs, for a failure message.
show_kbz_logs() {
  local f
  [ -d "$KBZ_WORKDIR/logs" ] || { warn "no kbz-install logs in $KBZ_WORKDIR/logs"; return 0; }
  find "$KBZ_WORKDIR/logs" -type f -printf '%T@ %p\n' | sort -n | tail -n 3 | cut -d' ' -f2- |
    while read -r f; do
      printf -- '---- %s (last 40 lines)\n' "$f" >&2
      tail -n 40 "$f" >&2
    done
}
