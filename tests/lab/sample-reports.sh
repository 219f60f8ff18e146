#!/usr/bin/env bash
# Copies the lab's validation reports and SUIVI into reports/lab/, the samples a reader of the repository sees
# ("what the team will get"). `make sample-reports` runs `make demo` first; with a folder argument it copies from
# that kbz-install workdir instead (e.g. build/lab-apply-all/, the artefacts of the lab CI's chain run).
#   tests/lab/sample-reports.sh [WORKDIR]    (default: the demo's workdir, .lab/work)
# Reports hold no secret (masked by kbz-install); the copy refuses a workdir without reports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/kbz.sh"
cd "$REPO_TOP"

src=${1:-$KBZ_WORKDIR}
out="$REPO_TOP/reports/lab"
shopt -s nullglob
reports=("$src"/reports/RAPPORT_VALIDATION_MODULE*.md)
((${#reports[@]} > 0)) || die "no reports/RAPPORT_VALIDATION_MODULE*.md in $src (run make demo first)"
[ -f "$src/SUIVI_INSTALLATION_V2.md" ] || die "no SUIVI_INSTALLATION_V2.md in $src"
rm -rf "$out.new"; mkdir -p "$out.new"
cp "${reports[@]}" "$src/SUIVI_INSTALLATION_V2.md" "$out.new/"
# Nothing half-written: the new set replaces the old one at once.
rm -rf "$out"; mv "$out.new" "$out"
log "copied to reports/lab/: $(cd "$out" && ls | paste -sd' ')"
