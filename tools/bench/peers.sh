#!/usr/bin/env bash
# Runs sealpool_peer_bench once per allocator — glibc, then jemalloc,
# mimalloc, tcmalloc and scudo through LD_PRELOAD, then sealpool — in
# rounds, and writes into OUT_DIR:
#   raw/*.json     Google Benchmark's JSON output of every run
#   stats.csv      median, min, max and sample count of every measurement
#   table.md       the Markdown table (medians; ratio to glibc in brackets)
#   table-min.md   the same with each cell's fastest sample
#   ratios.dat     the ratios, as gnuplot data
#   peers.svg      the chart (when gnuplot is installed)
#   peers.md       machine, date, load, method, and both tables
#
# usage: tools/bench/peers.sh [--quick] [--hardening] [--rounds N]
#                             [--repetitions N] [--min-time S]
#                             BUILD_DIR [OUT_DIR]
#   BUILD_DIR   a build with SEALPOOL_BUILD_BENCH=ON (the bench preset)
#   OUT_DIR     default: build/bench-report
#   --quick     one round, one repetition, 0.05 s per benchmark (a smoke run)
#   --hardening also run sealpool once per hardening option turned off
#               (columns sealpool-no-<option>), for each feature's cost
#
# sealpool runs twice: "sealpool" with every hardening option at its
# default, "sealpool-light" with the hardening turned down to the checks of
# the unhardened allocator (the options in $light below).
#
# Peers that are not installed are skipped with a note (tools/setup.sh
# --bench installs them). Run on an otherwise idle machine: the load average
# is recorded before and after.
set -euo pipefail

rounds=3
repetitions=3
min_time=0.2
hardening=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) rounds=1; repetitions=1; min_time=0.05; shift ;;
    --hardening) hardening=1; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --repetitions) repetitions="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    -*) echo "peers: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [[ $# -lt 1 || $# -gt 2 ]]; then
  sed -n '13,22p' "$0" >&2
  exit 2
fi
build_dir=$1
out_dir=${2:-build/bench-report}
here=$(cd "$(dirname "$0")" && pwd)

bench="$build_dir/tools/bench/sealpool_peer_bench"
table="$build_dir/tools/bench/sealpool_bench_table"
for program in "$bench" "$table"; do
  if [[ ! -x "$program" ]]; then
    echo "peers: $program is missing; build the bench preset first" >&2
    exit 1
  fi
done

# --- The allocators ----------------------------------------------------------------

multiarch=$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")
scudo=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.scudo_standalone-"$(uname -m)".so \
  2>/dev/null | sort -V | tail -n 1 || true)
declare -A library=(
  [jemalloc]="/usr/lib/$multiarch/libjemalloc.so.2"
  [mimalloc]="/usr/lib/$multiarch/libmimalloc.so.2"
  [tcmalloc]="/usr/lib/$multiarch/libtcmalloc_minimal.so.4"
  [scudo]="$scudo"
)
declare -A package=(
  [jemalloc]=libjemalloc2 [mimalloc]=libmimalloc2.0
  [tcmalloc]=libtcmalloc-minimal4 [scudo]=libclang-rt-14-dev
)
peers=()
skipped=()
for peer in jemalloc mimalloc tcmalloc scudo; do
  if [[ -n "${library[$peer]}" && -f "${library[$peer]}" ]]; then
    peers+=("$peer")
  else
    skipped+=("$peer")
    echo "peers: skipping $peer: its library is not installed" \
      "(package ${package[$peer]}; tools/setup.sh --bench)" >&2
  fi
done
# The hardening options (allocator/internal/options.inc) and what "light"
# turns off.
hardening_options=(atomic_free random_reuse quarantine large_quarantine
  pool_quarantine zero_on_free write_after_free_check canaries)
light=""
for option in "${hardening_options[@]}"; do
  light+="${light:+:}$option=0"
done
declare -A sealpool_options=([sealpool]="" [sealpool-light]="$light")
variants=()
if [[ $hardening -eq 1 ]]; then
  for option in "${hardening_options[@]}"; do
    sealpool_options[sealpool-no-$option]="$option=0"
    variants+=("sealpool-no-$option")
  done
fi
allocators=(glibc "${peers[@]}" sealpool "${variants[@]}" sealpool-light)

# What each allocator runs (Google Benchmark filters): glibc and the peers
# the malloc benchmarks, sealpool its own set.
speed_filter() {
  case "$1" in
    sealpool*) echo '^BM_Sealpool_(PingPong|Batch|Random|ObjectSize|CheckCopy|Memcpy|SpMemcpy)' ;;
    *) echo '^BM_System_(PingPong|Batch|Random|UsableSize)' ;;
  esac
}
memory_filter() {
  case "$1" in
    sealpool*) echo '^BM_Sealpool_Memory64' ;;
    *) echo '^BM_System_Memory64' ;;
  esac
}

# run LABEL OUT FILTER [ARGS...]: one process of the benchmark binary; its
# console output goes to OUT with .log for .json, shown if the run fails.
run() {
  local label=$1 out=$2 filter=$3
  shift 3
  local preload="" options=""
  case "$label" in
    glibc) ;;
    sealpool*) options=${sealpool_options[$label]} ;;
    *) preload=${library[$label]} ;;
  esac
  if ! env -u LD_PRELOAD -u SEALPOOL_OPTIONS ${preload:+LD_PRELOAD="$preload"} \
    ${options:+SEALPOOL_OPTIONS="$options"} \
    "$bench" --benchmark_filter="$filter" \
    --benchmark_out="$out" --benchmark_out_format=json "$@" \
    >"${out%.json}.log" 2>&1; then
    echo "peers: $label: the benchmark failed:" >&2
    cat "${out%.json}.log" >&2
    exit 1
  fi
}

# --- Machine and method ----------------------------------------------------------------

mkdir -p "$out_dir/raw"
rm -f "$out_dir"/raw/*.json "$out_dir"/raw/*.log
cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
cpus=$(nproc)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
versions=()
for peer in "${peers[@]}"; do
  versions+=("$peer $(dpkg-query -W -f='${Version}' "${package[$peer]}" 2>/dev/null || echo '?')")
done
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
compiler_version=$("${compiler:-c++}" --version 2>/dev/null | head -n 1 || echo '?')
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)

echo "peers: ${allocators[*]}; $rounds round(s) of $repetitions repetition(s)," \
  "${min_time} s each; load average $load_before"
SECONDS=0
for ((r = 1; r <= rounds; r++)); do
  # Rotate the order from round to round, so that drift of the machine's
  # speed does not always favour the same allocator.
  n=${#allocators[@]}
  for ((k = 0; k < n; k++)); do
    label=${allocators[$(((k + r - 1) % n))]}
    echo "peers: round $r/$rounds: $label"
    run "$label" "$out_dir/raw/$label.speed.$r.json" "$(speed_filter "$label")" \
      --benchmark_repetitions="$repetitions" --benchmark_min_time="$min_time"
    # Memory: a fresh process per measurement (allocators keep what was
    # freed, so a second measurement in one process would see no growth).
    run "$label" "$out_dir/raw/$label.memory.$r.json" "$(memory_filter "$label")"
  done
done
elapsed=$SECONDS
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Table, data, chart -----------------------------------------------------------------

# The chart keeps to glibc, the peers, sealpool and sealpool-light; the
# tables have every column.
table_args=()
chart_args=()
for label in "${allocators[@]}"; do
  for f in "$out_dir"/raw/"$label".*.json; do
    table_args+=("$label=$f")
    [[ $label == sealpool-no-* ]] || chart_args+=("$label=$f")
  done
done
"$table" --markdown="$out_dir/table.md" --csv="$out_dir/stats.csv" "${table_args[@]}"
"$table" --markdown=/dev/null --data="$out_dir/ratios.dat" "${chart_args[@]}"
"$table" --statistic=min --markdown="$out_dir/table-min.md" "${table_args[@]}"

if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$out_dir/ratios.dat'; outfile='$out_dir/peers.svg'" \
    "$here/peers.gp"
  echo "peers: chart in $out_dir/peers.svg"
else
  echo "peers: gnuplot is not installed; no chart (tools/setup.sh --bench)" >&2
fi

{
  echo "Measured $started on $cpu_model, $cpus CPUs ($(uname -sr));"
  echo "load average $load_before before and $load_after after the ${elapsed}-s run."
  echo "Build: ${build_type:-?}, $compiler_version. Peers (Debian packages): ${versions[*]:-none}."
  if [[ ${#skipped[@]} -gt 0 ]]; then
    echo "Not installed, skipped: ${skipped[*]}."
  fi
  echo
  echo "sealpool: every hardening option at its default; sealpool-light: $light."
  echo
  echo "Method: one process per allocator and round (peers through LD_PRELOAD);"
  echo "$rounds round(s) in rotating order, $repetitions repetition(s) of ${min_time} s per"
  echo "benchmark in each; the table gives the median of all samples (CPU time; wall"
  echo "time for the 2-thread rows) and, in brackets, the ratio to glibc."
  echo "RSS: growth while 1,000,000 objects of 64 B are allocated, one fresh process"
  echo "per sample. Lower is better everywhere. Min and max of every cell: stats.csv."
  echo
  cat "$out_dir/table.md"
  echo
  echo "The fastest sample of each cell (less disturbed by other work on the machine):"
  echo
  cat "$out_dir/table-min.md"
} > "$out_dir/peers.md"
cat "$out_dir/peers.md"
