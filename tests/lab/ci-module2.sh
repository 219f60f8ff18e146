#!/usr/bin/env bash
# CI for module 2 on the lab (profile base): plan, apply, a second apply that must change nothing,
# verify + French report, and a login after SSH hardening and UFW. The lab is always torn down.
# Prints "N passed, N failed" last. KBZ_BIN: binary to test (default build/kbz-install, built if missing).
# Artefacts (kbz logs, reports, JSON) are copied to build/lab-ci-module2/ before the lab goes down.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module2
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages   # jq is one of the lab's host packages

# A fresh fleet every time: servers kept from an earlier run would hide first-install problems.
check "lab down (start from blank servers)" "$here/lab.sh" down
check "lab up (profile base)" "$here/lab.sh" up --profile base
rm -rf "$KBZ_WORKDIR"; mkdir -p "$KBZ_WORKDIR"

check "plan --module 2 exits 0" kbz plan --module 2
check "apply --module 2 (first run)" apply_json 2 "$KBZ_WORKDIR/a1.json"
check "first apply: no host failed" assert_json "$KBZ_WORKDIR/a1.json" false
check "apply --module 2 (second run)" apply_json 2 "$KBZ_WORKDIR/a2.json"
check "second apply: changed 0 on every host" assert_json "$KBZ_WORKDIR/a2.json" true
check "verify --module 2 exits 0" kbz verify --module 2
check "French report written" test -s "$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE2.md"
check "login still works after SSH hardening and UFW" kbz exec -- true
