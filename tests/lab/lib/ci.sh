# shellcheck shell=bash
# Shared frame of the lab CI scripts (ci-module*.sh): named assertions, a summary line, artefacts kept in
# build/<name>/, and one lab shared by every module's CI. Sourced after common.sh, engine.sh and kbz.sh.
#
#   ci_begin NAME           start (sets the EXIT trap); prints "NAME: N passed, N failed" last
#   ci_lab PROFILE          get a lab holding PROFILE's servers, module 2 applied (see the modes below);
#                           sets CI_HOSTS (those servers) and CI_SEL (the same as a --hosts selector)
#   check TITLE CMD         one named assertion; the first failure ends the run (later ones depend on it)
#   assert_json FILE ZERO   the run in FILE reports exactly CI_HOSTS (all lab servers when unset), none
#                           failed; with ZERO=true also nothing changed
#
# Three modes, chosen by the environment (ctest sets it, tests/CMakeLists.txt):
#   standalone (default: `make ci-moduleN`): `lab.sh down`, `up --profile PROFILE`, a fresh workdir, module 2
#       applied on CI_HOSTS; the lab is taken down at the end, whatever happened.
#   LAB_CI_SETUP=1 (ctest `lab_setup`, FIXTURES_SETUP lab: ci-module2.sh): brings up profile `ci` and every
#       service image, proves module 2 on all its servers, and on success writes the marker
#       $LAB_DIR/ci-fixture ("instance=N profile=ci"). It leaves the lab up for the module tests.
#   LAB_CI_FIXTURE=1 (ctest `lab_moduleN`, FIXTURES_REQUIRED lab): uses the running lab. The marker must be
#       there and name this LAB_INSTANCE (else lab_setup did not pass: fail, change nothing); PROFILE's servers
#       must be in it. Module 2 is not applied again, the workdir is kept (credentials/, logs/, reports/,
#       .kbz/ are shared by the modules, as in a real team's), the lab stays up (`lab_cleanup` takes it down).
# In every mode a CI touches only its own servers: its module's targets, or --hosts "$CI_SEL".
# Scratch files of a script (JSON summaries, plans) go to CI_WORK=$KBZ_WORKDIR/ci/NAME, never the workdir's top.

CI_MARKER="$LAB_DIR/ci-fixture"

ci_mode() {
  if [ "${LAB_CI_SETUP:-0}" = 1 ]; then echo setup
  elif [ "${LAB_CI_FIXTURE:-0}" = 1 ]; then echo fixture
  else echo standalone; fi
}

ci_begin() {
  CI_NAME=$1
  CI_ARTEFACTS="$REPO_TOP/build/$1"
  CI_WORK="$KBZ_WORKDIR/ci/$1"
  CI_MODE=$(ci_mode)
  CI_HOSTS="" CI_SEL=""
  ci_passed=0 ci_failed=0 ci_current="setup"
  log "$CI_NAME: $CI_MODE (lab instance $LAB_INSTANCE, $LAB_DIR)"
  trap ci_finish EXIT
}

ci_finish() {
  local rc=$?
  if ((rc != 0)); then
    ((ci_failed += 1))
    warn "$CI_NAME failed at: $ci_current (exit $rc)"
    show_kbz_logs
  fi
  rm -rf "$CI_ARTEFACTS"; mkdir -p "$CI_ARTEFACTS"
  # Artefacts for a human, never the generated secrets: the (maybe shared) workdir without credentials/ and
  # without the other scripts' scratch folders, then this script's scratch files at the top.
  [ -d "$KBZ_WORKDIR" ] && (cd "$KBZ_WORKDIR" && tar cf - --exclude=./credentials --exclude=./ci . 2>/dev/null) | tar xf - -C "$CI_ARTEFACTS" || true
  [ -d "$CI_WORK" ] && cp -a "$CI_WORK"/. "$CI_ARTEFACTS"/ 2>/dev/null || true
  case $CI_MODE in
    standalone) "$LAB_SRC/lab.sh" down || warn "lab down failed" ;;
    setup) ((rc == 0)) || warn "lab left up for lab_cleanup (the module tests do not run: no $CI_MARKER)" ;;
    fixture) ;;   # the lab belongs to the fixture: lab_cleanup takes it down
  esac
  echo "$CI_NAME: $ci_passed passed, $ci_failed failed"
  exit "$rc"
}

check() {
  ci_current=$1; shift
  local t0=$SECONDS
  log "$ci_current"
  "$@"
  ((ci_passed += 1))
  info "ok ($((SECONDS - t0)) s)"
}

# The marker lab_setup writes once module 2 passed on the whole `ci` lab.
ci_marker_ok() {
  [ -f "$CI_MARKER" ] || { warn "no $CI_MARKER: lab_setup did not pass (or the lab was taken down)"; return 1; }
  grep -qx "instance=$LAB_INSTANCE" "$CI_MARKER" ||
    { warn "$CI_MARKER is not lab instance $LAB_INSTANCE's: $(paste -sd' ' "$CI_MARKER")"; return 1; }
}

# Every host of PROFILE is a server of the running lab (its servers.tsv).
ci_hosts_in_lab() {
  local h missing=()
  for h in $CI_HOSTS; do
    awk -F'\t' -v h="$h" '$3 == h {f = 1} END {exit !f}' "$LAB_DIR/servers.tsv" || missing+=("$h")
  done
  ((${#missing[@]} == 0)) || { warn "not in the running lab: ${missing[*]}"; return 1; }
}

ci_lab() {
  local profile=$1
  CI_HOSTS=$("$LAB_SRC/lab.sh" profiles "$profile")
  CI_SEL=$(tr ' ' ',' <<<"$CI_HOSTS")
  case $CI_MODE in
    fixture)
      check "shared lab ready (lab_setup passed, instance $LAB_INSTANCE)" ci_marker_ok
      check "the shared lab has the servers of profile $profile" ci_hosts_in_lab
      check "login to $profile's servers" kbz exec --hosts "$CI_SEL" -- true
      mkdir -p "$KBZ_WORKDIR"
      ;;
    setup) die "ci_lab is for module CIs; lab_setup is ci-module2.sh with LAB_CI_SETUP=1" ;;
    standalone)
      # A fresh fleet every time: servers kept from an earlier run would hide first-install problems.
      check "lab down (start from blank servers)" "$LAB_SRC/lab.sh" down
      check "lab up (profile $profile)" "$LAB_SRC/lab.sh" up --profile "$profile"
      rm -rf "$KBZ_WORKDIR"; mkdir -p "$KBZ_WORKDIR"
      ;;
  esac
  rm -rf "$CI_WORK"; mkdir -p "$CI_WORK"
  if [ "$CI_MODE" = standalone ]; then
    check "apply --module 2 (Docker, UFW)" apply_json 2 "$CI_WORK/m2.json" --hosts "$CI_SEL"
    check "module 2: no host failed" assert_json "$CI_WORK/m2.json" false
  fi
}

# Written by lab_setup (ci-module2.sh, LAB_CI_SETUP=1) once the whole `ci` lab passed module 2.
ci_write_marker() {
  printf 'instance=%s\nprofile=%s\nwritten=%s\n' "$LAB_INSTANCE" "$(cat "$LAB_DIR/profile")" "$(date -u +%FT%TZ)" \
    >"$CI_MARKER"
}

# The hosts a module run must report on: CI_HOSTS, or every server of the lab (not install-01).
ci_expected_hosts() {
  if [ -n "$CI_HOSTS" ]; then tr ' ' '\n' <<<"$CI_HOSTS"
  else awk -F'\t' 'NR > 1 && $8 != "orchestrator" {print $3}' "$LAB_DIR/servers.tsv"; fi
}

# assert_json FILE ZERO_CHANGES: exactly the expected hosts report, none failed; with true also nothing changed.
assert_json() {
  local file=$1 zero_changes=$2 want
  want=$(ci_expected_hosts | sort | jq -R . | jq -sc .)
  jq -e --argjson want "$want" --argjson z "$zero_changes" '
    ([.hosts[].host] | sort) == $want and all(.hosts[]; .failed == 0 and (($z | not) or .changed == 0))' "$file" >/dev/null \
    || { warn "$file does not show exactly $(jq -r 'join(" ")' <<<"$want") with failed=0${zero_changes/true/ and changed=0}:";
         jq -c '.hosts[] | {host, ok, changed, failed, skipped}' "$file" >&2 || cat "$file" >&2; return 1; }
}

# apply_json MODULE FILE [ARGS...]: apply with the JSON summary kept for assert_json.
apply_json() { local m=$1 f=$2; shift 2; kbz apply --module "$m" "$@" --json >"$f"; }
