#!/usr/bin/env bash
# CI for the whole chain on the lab: `apply --all --failover` (the chain's modules in order, each apply followed
# by its verify with its failover tests, as `make demo` runs it) on a fleet where the modules are already
# installed; then every chain module must have been verified, be ✅ in the SUIVI with its apply and verify
# durations, and have its archive.
#   inside the shared ctest lab (LAB_CI_FIXTURE=1, `lab_apply_all`, after the module tests): profile ci.
#   standalone (`make ci-apply-all`): profile redis (modules 2 and 4; the others, without hosts, are skipped
#     and said).
# Prints "N passed, N failed" last. The failure/resume path (--from-module) is proven against real sshd in
# tests/integration (EngineCli.ApplyAllStopsAtTheFirstFailureAndFromModuleResumes).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-apply-all
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages
if [ "$CI_MODE" = fixture ]; then ci_lab ci; else ci_lab redis; fi

chain_log="$CI_WORK/apply-all.out"
# The chain runs the modules the lab can apply whose own lab CI passes (KBZ_CHAIN_MODULES, set by
# tests/CMakeLists.txt; default 2 4): modules 6 and 9 are plan-only here (no MinIO, no kubeadm) and would be
# refused, so the chain reads its modules from a folder holding just those (--modules-dir).
chain_mods="$CI_WORK/modules"
link_chain_modules() {
  local n d
  rm -rf "$chain_mods"; mkdir -p "$chain_mods"
  for n in ${KBZ_CHAIN_MODULES:-2 4}; do
    d=$(ls -d "$REPO_TOP"/modules/"$(printf '%02d' "$n")"-* 2>/dev/null) || { warn "no modules/$n-*"; return 1; }
    ln -s "$d" "$chain_mods/"
  done
}
check "chain modules: ${KBZ_CHAIN_MODULES:-2 4}" link_chain_modules
# The lab's kbz.yaml also holds the other modules' keys (postgres:, rabbitmq:, ...), which kbz-install refuses
# when those modules are not loaded: the chain reads a copy with the core keys and its modules' keys only.
chain_cfg="$CI_WORK/kbz.yaml"
chain_config() {
  local keys="network|dns|timezone|docker|images|image_bundle_dir|lab|preflight|host_lock|volumes" n k
  for n in ${KBZ_CHAIN_MODULES:-2 4}; do
    for k in $(grep -ohE '^ *- *\{? *key: *[a-z_]+\.' "$chain_mods"/"$(printf '%02d' "$n")"-*/module.yaml |
      sed -E 's/.*key: *([a-z_]+)\./\1/' | sort -u); do keys="$keys|$k"; done
  done
  # A top-level key starts a block that is kept or dropped whole (its indented lines follow it).
  awk -v re="^($keys):" '/^[A-Za-z_]/ {keep = ($0 ~ re)} /^#/ || keep {print}' "$LAB_DIR/kbz.yaml" >"$chain_cfg"
}
check "chain kbz.yaml (core keys and the chain modules' keys)" chain_config
run_chain() {
  "$KBZ_BIN" --inventory "$LAB_DIR/servers.tsv" --config "$chain_cfg" --known-hosts "$LAB_DIR/known_hosts" \
    --identity "$LAB_DIR/ssh/id_ed25519" --workdir "$KBZ_WORKDIR" --modules-dir "$chain_mods" \
    apply --all --failover >"$chain_log" 2>&1 || { cat "$chain_log" >&2; return 1; }
  cat "$chain_log"
}
check "apply --all --failover exits 0 (each module applied, then verified with its failover tests)" run_chain

# The modules the chain verified ("==> verify --module N (...)"), in its order.
modules=$(sed -n 's/^==> verify --module \([0-9]\+\) .*/\1/p' "$chain_log" | paste -sd' ')
# A module skipped for want of hosts would pass the rest silently: every chain module must have been verified.
all_verified() {
  [ "$modules" = "$(echo ${KBZ_CHAIN_MODULES:-2 4})" ] ||
    { warn "verified: '$modules', chain: '${KBZ_CHAIN_MODULES:-2 4}'"; cat "$chain_log" >&2; return 1; }
}
check "every chain module verified ($modules)" all_verified

suivi="$KBZ_WORKDIR/SUIVI_INSTALLATION_V2.md"
# | N | title | ✅ ... | last apply | apply duration | last verify | verify duration | ...
suivi_done() {
  local m row
  for m in $modules; do
    row=$(grep -E "^\| $m \|" "$suivi") || { warn "module $m: no row in $suivi"; return 1; }
    grep -q '✅' <<<"$row" || { warn "module $m is not ✅ in the SUIVI: $row"; return 1; }
    awk -F'|' '{d1=$7; d2=$9; gsub(/ /,"",d1); gsub(/ /,"",d2); exit !(d1 ~ /[0-9]/ && d2 ~ /[0-9]/)}' <<<"$row" ||
      { warn "module $m: no apply/verify duration in the SUIVI: $row"; return 1; }
  done
}
check "SUIVI: every module of the chain ✅ with its apply and verify durations" suivi_done

archives() {
  local m
  for m in $modules; do
    ls "$KBZ_WORKDIR"/logs/archive/*-module"$m".tar.gz >/dev/null 2>&1 ||
      { warn "module $m: no archive under logs/archive"; ls "$KBZ_WORKDIR/logs/archive" >&2 || true; return 1; }
  done
}
check "one log archive per module run under logs/archive/" archives
