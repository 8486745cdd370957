#!/usr/bin/env bash
# The cost of a checked copy in whole-program mode: runs
# workloads/copy_cost under glibc and with libsealpool_malloc.so preloaded,
# alternately, ROUNDS times (default 7), and prints per case the median ns
# per memcpy of each and their ratio.
#
# usage: tools/bench/copy_bench.sh [--rounds N] COPY_COST_BINARY MALLOC_LIB
set -euo pipefail
rounds=7
if [[ ${1:-} == --rounds ]]; then rounds=$2; shift 2; fi
if [[ $# -ne 2 ]]; then sed -n '7p' "$0" >&2; exit 2; fi
bin=$1
lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; ++r)); do
  "$bin" >> "$tmp/glibc"
  LD_PRELOAD=$lib "$bin" >> "$tmp/sealpool"
done
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
printf '%-12s %10s %10s %7s\n' case glibc-ns sealpool-ns ratio
for c in heap-64 heap-4096 stack-64 stack-4096; do
  g=$(awk -v c="$c" '$1 == c {print $2}' "$tmp/glibc" | median)
  s=$(awk -v c="$c" '$1 == c {print $2}' "$tmp/sealpool" | median)
  awk -v c="$c" -v g="$g" -v s="$s" 'BEGIN {printf "%-12s %10.2f %10.2f %6.2fx\n", c, g, s, s / g}'
done
