#!/usr/bin/env bash
# The stack-frame rule's cost (frame_bench.cc): a checked 64-byte copy
# into a local buffer one frame up, with and without frame pointers,
# against the same checked copy into a pool object. Each benchmark runs in
# a fresh process, the three alternated in rotating order for ROUNDS
# rounds; prints each one's median time and the medians of the per-round
# ratios to the pool-object copy.
#
# usage: tools/bench/frame_bench.sh [BUILD_DIR] [ROUNDS]
#   BUILD_DIR  a configured bench preset (default build/bench); its
#              sealpool_bench is built first
#   ROUNDS     default 11
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/bench}
rounds=${2:-11}
cmake --build "$build" -j 2 --target sealpool_bench >/dev/null
bench=$build/tools/bench/sealpool_bench
names=(BM_CheckedCopyIntoPoolObject BM_CheckedCopyIntoLocal_FramePointers
       BM_CheckedCopyIntoLocal_NoFramePointers)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; ++r)); do
  for ((k = 0; k < ${#names[@]}; ++k)); do
    name=${names[$(((k + r) % ${#names[@]}))]}
    "$bench" --benchmark_filter="^${name}\$" --benchmark_min_time=0.5 \
        --benchmark_format=csv 2>/dev/null |
      awk -F, -v n="$name" -v r="$r" '$1 == "\"" n "\"" { print r, $3 }' >>"$tmp/$name"
  done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=${names[0]}
printf '%-42s %10s %8s\n' benchmark "median ns" ratio
for name in "${names[@]}"; do
  t=$(awk '{ print $2 }' "$tmp/$name" | median)
  ratio=$(paste "$tmp/$name" "$tmp/$base" | awk '{ print $2 / $4 }' | median)
  printf '%-42s %10.1f %8.2f\n' "$name" "$t" "$ratio"
done
