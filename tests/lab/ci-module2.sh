#!/usr/bin/env bash
# CI for module 2 on the lab: plan, apply, a second apply that must change nothing, verify + French report,
# and a login after SSH hardening and UFW, on every server of the lab.
#   standalone (`make ci-module2`): profile base; the lab is always torn down.
#   LAB_CI_SETUP=1 (ctest `lab_setup`, the FIXTURES_SETUP of the shared lab, see lib/ci.sh): profile ci and
#     every service image first; on success the lab stays up with the marker .lab/ci-fixture for the module
#     tests (lab_module4, ...), and `lab_cleanup` takes it down.
# Prints "N passed, N failed" last. KBZ_BIN: binary to test (default build/kbz-install, built if missing).
# Artefacts (kbz logs, reports, JSON) are copied to build/lab-ci-module2/ (build/lab-setup/ in setup mode).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

case $(ci_mode) in
  setup) ci_begin lab-setup; profile=ci ;;
  standalone) ci_begin lab-ci-module2; profile=base ;;
  *) die "ci-module2.sh is the shared lab's setup (LAB_CI_SETUP=1) or standalone, not a fixture user" ;;
esac
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages   # jq is one of the lab's host packages

# A fresh fleet every time: servers kept from an earlier run would hide first-install problems.
check "lab down (start from blank servers)" "$here/lab.sh" down
check "lab up (profile $profile)" "$here/lab.sh" up --profile "$profile"
# The shared lab serves every module: all service images in the bundle (and in kbz.yaml) before they run.
if [ "$CI_MODE" = setup ]; then check "every service image in the lab bundle" "$here/lab.sh" images; fi
rm -rf "$KBZ_WORKDIR"; mkdir -p "$KBZ_WORKDIR" "$CI_WORK"

check "plan --module 2 exits 0" kbz plan --module 2
check "apply --module 2 (first run)" apply_json 2 "$CI_WORK/a1.json"
check "first apply: no host failed" assert_json "$CI_WORK/a1.json" false
check "apply --module 2 (second run)" apply_json 2 "$CI_WORK/a2.json"
check "second apply: changed 0 on every host" assert_json "$CI_WORK/a2.json" true
check "verify --module 2 exits 0" kbz verify --module 2
check "French report written" test -s "$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE2.md"
check "login still works after SSH hardening and UFW" kbz exec -- true
if [ "$CI_MODE" = setup ]; then check "shared lab marker written ($CI_MARKER)" ci_write_marker; fi
