#!/usr/bin/env bash
# Compares sealpool with glibc, jemalloc, mimalloc, tcmalloc and scudo on a
# fresh Debian 12 machine: installs what is missing (tools/setup.sh --bench),
# configures the bench preset (Release, benchmarks on, tests off), builds the
# peer benchmark and its table tool, runs tools/bench/peers.sh, and leaves
# the table (peers.md) and the chart (peers.svg) in OUT_DIR; then builds
# libsealpool_malloc.so and the whole-program workloads and runs
# tools/bench/malloc_bench.sh, whose tables (report.md) and chart
# (malloc.svg) go to OUT_DIR/malloc.
#
# usage: tools/bench.sh [--quick] [--hardening] [--malloc-only] [--rounds N]
#                       [--repetitions N] [--min-time S] [--build-dir DIR]
#                       [OUT_DIR]
#   OUT_DIR       default: build/bench-report
#   --build-dir   default: build/bench (the bench preset's own directory)
#   --malloc-only only the whole-program workloads (about 7 minutes)
#   --quick       a smoke run of both (seconds instead of minutes)
#   other options go to tools/bench/peers.sh (--hardening: one more
#   sealpool column per hardening option turned off)
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
malloc_options=()
malloc_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) peer_options+=("$1"); malloc_options+=("$1"); shift ;;
    --hardening) peer_options+=("$1"); shift ;;
    --malloc-only) malloc_only=1; shift ;;
    --rounds|--repetitions|--min-time) peer_options+=("$1" "$2"); shift 2 ;;
    --build-dir) build_dir=$(absolute "$2"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "bench: unknown option '$1'" >&2; exit 2 ;;
    *) out_dir=$(absolute "$1"); shift ;;
  esac
done

bash tools/setup.sh --bench
cmake --preset bench -B "$build_dir" >/dev/null
if [[ $malloc_only -eq 0 ]]; then
  cmake --build "$build_dir" -j 2 --target sealpool_peer_bench sealpool_bench_table
  bash tools/bench/peers.sh "${peer_options[@]}" "$build_dir" "$out_dir"
  echo "bench: table in $out_dir/peers.md, chart in $out_dir/peers.svg"
  echo "bench: to update the chart the README shows: cp $out_dir/peers.svg tools/bench/peers.svg"
fi
cmake --build "$build_dir" -j 2 --target sealpool_malloc \
  sealpool_wl_churn sealpool_wl_xmalloc sealpool_wl_larson sealpool_wl_realloc \
  sealpool_wl_glibc_thread sealpool_wl_measure
bash tools/bench/malloc_bench.sh "${malloc_options[@]}" \
  --workloads-dir "$build_dir/tools/bench/workloads" \
  --sealpool "$build_dir/allocator/malloc/libsealpool_malloc.so" "$out_dir/malloc"
echo "bench: whole-program tables in $out_dir/malloc/report.md, chart in $out_dir/malloc/malloc.svg"
echo "bench: to update the chart the README shows: cp $out_dir/malloc/malloc.svg tools/bench/malloc.svg"
