#!/usr/bin/env bash
# Installs the Debian 12 packages sealpool needs to build, test and
# benchmark, skipping those already installed. Run as root. Idempotent.
#
#   tools/setup.sh           build and test dependencies
#   tools/setup.sh --bench   also the peer allocators and gnuplot that
#                            tools/bench.sh compares against and plots with
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  g++ clang libclang-rt-14-dev
  libabsl-dev
  googletest libgtest-dev libgmock-dev
  libbenchmark-dev
  libxml2-utils
  libdw-dev
  # Host libraries whose allocator hooks tools/consumer/hooks/ exercises.
  zlib1g-dev libcjson-dev liblua5.4-dev
  # Real programs the whole-program stage runs under sealpool-run
  # (tests/programs/).
  python3 sqlite3 git gcc redis-server redis-tools curl
)

for arg in "$@"; do
  case "$arg" in
    --bench)
      # jemalloc, mimalloc and tcmalloc as LD_PRELOAD libraries (scudo
      # comes with libclang-rt-14-dev above), and gnuplot for the chart.
      packages+=(libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 gnuplot-nox)
      ;;
    *)
      echo "setup: unknown argument '$arg' (expected --bench)" >&2
      exit 2
      ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all build dependencies are installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged servers (redis-server) must not start at install: the tests
# start and stop their own instances. A policy-rc.d already present is
# left alone.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
apt_log=$(mktemp)
trap '[[ $own_policy -eq 1 ]] && rm -f "$policy"; rm -f "$apt_log"' EXIT
# Quiet: apt's and debconf's chatter is shown only if the install fails.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$apt_log" 2>&1; then
  cat "$apt_log" >&2
  echo "setup: apt-get failed" >&2
  exit 1
fi
echo "setup: done"
