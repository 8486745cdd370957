#!/usr/bin/env bash
# Compares sealpool with glibc, jemalloc, mimalloc, tcmalloc and scudo on a
# fresh Debian 12 machine: installs what is missing (tools/setup.sh --bench),
# configures the bench preset (Release, benchmarks on, tests off), builds the
# peer benchmark and its table tool, runs tools/bench/peers.sh, and leaves
# the table (peers.md) and the chart (peers.svg) in OUT_DIR.
#
# usage: tools/bench.sh [--quick] [--hardening] [--rounds N] [--repetitions N]
#                       [--min-time S] [--build-dir DIR] [OUT_DIR]
#   OUT_DIR       default: build/bench-report
#   --build-dir   default: build/bench (the bench preset's own directory)
#   other options go to tools/bench/peers.sh (--quick: a smoke run of
#   seconds instead of a few minutes; --hardening: one more sealpool column
#   per hardening option turned off)
# Run as root (for the install step) on an otherwise idle machine.
set -euo pipefail

caller_dir=$PWD
absolute() {
  case "$1" in
    /*) echo "$1" ;;
    *) echo "$caller_dir/$1" ;;
  esac
}

cd "$(dirname "$0")/.."
build_dir=$PWD/build/bench
out_dir=$PWD/build/bench-report
peer_options=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick|--hardening) peer_options+=("$1"); shift ;;
    --rounds|--repetitions|--min-time) peer_options+=("$1" "$2"); shift 2 ;;
    --build-dir) build_dir=$(absolute "$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "bench: unknown option '$1'" >&2; exit 2 ;;
    *) out_dir=$(absolute "$1"); shift ;;
  esac
done

bash tools/setup.sh --bench
cmake --preset bench -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j 2 --target sealpool_peer_bench sealpool_bench_table
bash tools/bench/peers.sh "${peer_options[@]}" "$build_dir" "$out_dir"
echo "bench: table in $out_dir/peers.md, chart in $out_dir/peers.svg"
echo "bench: to update the chart the README shows: cp $out_dir/peers.svg tools/bench/peers.svg"
