#!/usr/bin/env bash
# Installs everything kbz-install needs to build and test, from Debian's archive only.
# Safe to re-run: apt-get skips what is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

BUILD_PKGS=(build-essential cmake ninja-build pkg-config git
  libssh-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libkainjow-mustache-dev nlohmann-json3-dev libdtl-dev libgtest-dev libgmock-dev
  clang-16 libclang-rt-16-dev)
# Test-time tools: a real OpenSSH server for integration tests, sudo for the non-root test user,
# pdsh as the benchmark peer.
TEST_PKGS=(openssh-server openssh-client sudo pdsh procps iproute2)

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
