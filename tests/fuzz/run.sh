#!/bin/sh
# Build the libFuzzer targets with clang in their own build dir and fuzz each for a bounded time.
# Only the fuzz targets are built there: the rest of the project is built with GCC (see CMakeLists.txt here).
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60; CI calls it with 60)
# Env: KBZ_FUZZ_CXX (default clang++-16), KBZ_FUZZ_BUILD_DIR (default build-fuzz/).
# Needs: apt-get install clang-16 libclang-rt-16-dev (see tests/fuzz/CMakeLists.txt for why 16).
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KBZ_FUZZ_BUILD_DIR:-$root/build-fuzz}
cxx=${KBZ_FUZZ_CXX:-clang++-16}

mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKBZ_BUILD_TESTS=ON -DKBZ_BUILD_FUZZ=ON >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
ninja -C "$build" -j2 inventory_fuzz settings_fuzz

for target in inventory settings; do
  # New inputs go to a scratch corpus in the build dir; the seeds in git stay small and reviewed.
  work="$build/fuzz-corpus/$target"
  artifacts="$build/fuzz-artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  echo "==> fuzzing $target for ${seconds}s"
  "$build/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$work" "$root/tests/fuzz/corpus/$target"
done
