#!/usr/bin/env bash
# Installs everything kbz-install needs to build and test, from Debian's archive only.
# Safe to re-run: apt-get skips what is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

BUILD_PKGS=(build-essential cmake ninja-build pkg-config git
  libssh-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libkainjow-mustache-dev nlohmann-json3-dev libdtl-dev libhowardhinnant-date-dev tzdata libarchive-dev libgtest-dev libgmock-dev
  clang-16 libclang-rt-16-dev clang-format)
# Test-time tools: a real OpenSSH server for integration tests, sudo for the non-root test user,
# pdsh, GNU time, python3 and ansible-core (the peer tool of bench/run.sh) for the benchmark, linux-perf to
# profile it, docker.io + debootstrap + jq for the lab of
# servers-in-containers (tests/lab/lab.sh starts dockerd itself when no init system runs it), xfsprogs +
# e2fsprogs + fdisk for the volume step's test on loop devices (tests/integration/volume_step_real_test.cpp),
# sqlite3 for module 7's ProxySQL admin fixtures (tests/unit/module7_proxysql_test.cpp: ProxySQL's admin is SQLite).
TEST_PKGS=(openssh-server openssh-client sudo pdsh time python3 ansible-core linux-perf procps iproute2 iptables util-linux
  docker.io debootstrap jq ca-certificates xfsprogs e2fsprogs fdisk sqlite3)

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
