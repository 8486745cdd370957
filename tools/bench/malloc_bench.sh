#!/usr/bin/env bash
# Runs the malloc workloads of tools/bench/workloads/ (see README.md there)
# as whole processes under glibc malloc and, through LD_PRELOAD, under
# jemalloc, mimalloc, tcmalloc, scudo and sealpool, in rounds, and writes
# into OUT_DIR:
#   raw.csv      every run: round, workload, allocator, wall time, peak RSS,
#                CPU time, exit status, output hash and verdict
#   time.md      Markdown table of median wall times (ratio to glibc)
#   rss.md       the same for median peak RSS
#   ratios.dat   the time ratios, as gnuplot data
#   malloc.svg   their chart (when gnuplot is installed)
#   report.md    machine, date, load, method, and both tables
#   runs/        every run's stdout and stderr
#
# usage: tools/bench/malloc_bench.sh [--quick] [--rounds N]
#                                    [--workloads-dir DIR] [--sealpool LIB]
#                                    [--timeout S] [OUT_DIR]
#   OUT_DIR          default: build/malloc-bench
#   --quick          one round at the workloads' small sizes (a smoke run)
#   --rounds N       rounds (default 5; 1 with --quick)
#   --workloads-dir  the built workloads and measure
#                    (default: build/bench/tools/bench/workloads)
#   --sealpool LIB   sealpool's malloc library, preloaded for the columns
#                    "sealpool" and "sealpool-nocheck" (the latter with
#                    SEALPOOL_OPTIONS=check_libc=0); default:
#                    build/bench/allocator/malloc/libsealpool_malloc.so
#   --timeout S      a run taking longer is killed and counts as FAIL
#                    (default 120)
#
# The workloads build with the project (SEALPOOL_BUILD_BENCH=ON), or alone:
#   cmake -S tools/bench/workloads -B /tmp/wl && cmake --build /tmp/wl
#   tools/bench/malloc_bench.sh --workloads-dir /tmp/wl
# The sqlite and python workloads need sqlite3 and python3 on PATH (or
# SQLITE3=, PYTHON=). Allocators and workloads that are missing are skipped
# with a note. Every run's output must equal glibc's for the same workload,
# else its cell reads FAIL and the script exits with status 1 at the end.
# Run on an otherwise idle machine: the load average is recorded.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
short_usage() { usage | awk '/^usage:/ { p = 1 } p { print } /OUT_DIR]$/ { exit }' >&2; }

# value OPTION ARGS...: the option's argument, or exit with the usage.
value() {
  if [[ $# -lt 2 ]]; then
    echo "malloc_bench: $1 needs a value" >&2
    short_usage
    exit 2
  fi
  printf '%s' "$2"
}

quick=0
rounds=""
wl_dir=build/bench/tools/bench/workloads
sealpool_lib=build/bench/allocator/malloc/libsealpool_malloc.so
timeout=""
out_dir=build/malloc-bench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --rounds) rounds=$(value "$@"); shift 2 ;;
    --workloads-dir) wl_dir=$(value "$@"); shift 2 ;;
    --sealpool) sealpool_lib=$(value "$@"); shift 2 ;;
    --timeout) timeout=$(value "$@"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "malloc_bench: unknown option '$1'" >&2; short_usage; exit 2 ;;
    *)
      if [[ $# -gt 1 ]]; then short_usage; exit 2; fi
      out_dir=$1; shift ;;
  esac
done
if [[ -z $rounds ]]; then rounds=$((quick ? 1 : 5)); fi
if [[ -z $timeout ]]; then timeout=$((quick ? 30 : 120)); fi
if ! [[ $rounds =~ ^[1-9][0-9]*$ && $timeout =~ ^[1-9][0-9]*$ ]]; then
  echo "malloc_bench: --rounds and --timeout take a positive integer" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$here/workloads
note() { echo "malloc_bench: $*" >&2; }

# --- The workloads ---------------------------------------------------------------

measure=$wl_dir/measure
for program in measure churn xmalloc larson realloc glibc_thread; do
  if [[ ! -x $wl_dir/$program ]]; then
    note "$wl_dir/$program is missing; build the workloads first:"
    note "  cmake -S $src -B /tmp/wl && cmake --build /tmp/wl" \
      "&& $0 --workloads-dir /tmp/wl"
    exit 1
  fi
done
workloads=(churn xmalloc larson realloc glibc-thread)
skipped_workloads=()
sqlite3=$(command -v "${SQLITE3:-sqlite3}" || true)
if [[ -n $sqlite3 ]]; then
  workloads+=(sqlite)
else
  skipped_workloads+=(sqlite)
  note "skipping workload sqlite: no sqlite3 (Debian package sqlite3)"
fi
python=$(command -v "${PYTHON:-python3}" || true)
if [[ -n $python ]]; then
  # The interpreter itself, not a wrapper script (pyenv's shim, say), so
  # that only Python runs with the allocator preloaded.
  python=$("$python" -c 'import sys; print(sys.executable)')
  workloads+=(python)
else
  skipped_workloads+=(python)
  note "skipping workload python: no python3"
fi

# workload_command NAME: sets cmd (the command) and wenv (measure's -e/-u
# options the workload needs under every allocator).
workload_command() {
  local q=()
  if [[ $quick -eq 1 ]]; then q=(--quick); fi
  wenv=()
  case "$1" in
    glibc-thread) cmd=("$wl_dir/glibc_thread" "${q[@]}") ;;
    sqlite)
      cmd=("$sqlite3" -batch -bail -init /dev/null :memory:
        ".parameter set @batch $((quick ? 1000 : 10000))" ".read '$src/sqlite.sql'") ;;
    python)
      cmd=("$python" -s "$src/python_churn.py" "${q[@]}")
      wenv=(-e PYTHONMALLOC=malloc -e PYTHONHASHSEED=0) ;;
    *) cmd=("$wl_dir/$1" "${q[@]}") ;;
  esac
}

# --- The allocators ----------------------------------------------------------------

scudo=""
for f in /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.scudo_standalone-x86_64.so; do
  if [[ -f $f ]]; then scudo=$f; break; fi # the first match
done
declare -A library=(
  [jemalloc]=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
  [mimalloc]=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
  [tcmalloc]=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
  [scudo]=$scudo
  [sealpool]=$sealpool_lib
  [sealpool-nocheck]=$sealpool_lib
)
declare -A package=(
  [jemalloc]=libjemalloc2 [mimalloc]=libmimalloc2.0
  [tcmalloc]=libtcmalloc-minimal4 [scudo]=libclang-rt-14-dev
)
declare -A options=([sealpool-nocheck]=check_libc=0)
allocators=(glibc)
skipped=()
for a in jemalloc mimalloc tcmalloc scudo sealpool sealpool-nocheck; do
  lib=${library[$a]}
  if [[ -z $lib || ! -f $lib ]]; then
    skipped+=("$a")
    note "skipping $a: ${lib:-its library} is not there${package[$a]:+ (package ${package[$a]})}"
    continue
  fi
  # ld.so only warns about a library it cannot preload, and runs the
  # program with glibc's malloc: that must not pass for a measurement.
  if LD_PRELOAD=$lib /bin/true 2>&1 | grep -q 'cannot be preloaded'; then
    skipped+=("$a")
    note "skipping $a: ld.so cannot preload $lib"
    continue
  fi
  library[$a]=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
  allocators+=("$a")
done
# sealpool runs from a copy taken now, so that a rebuild of the library
# during the run cannot change what is measured half-way.
sealpool_origin=""
if [[ " ${allocators[*]} " == *" sealpool "* ]]; then
  sealpool_origin=${library[sealpool]}
  mkdir -p "$out_dir/lib"
  cp "$sealpool_origin" "$out_dir/lib/"
  copy=$(cd "$out_dir/lib" && pwd)/$(basename "$sealpool_origin")
  library[sealpool]=$copy
  library[sealpool-nocheck]=$copy
  sealpool_sha=$(sha256sum "$copy" | cut -c1-16)
  sealpool_date=$(date -u -r "$sealpool_origin" '+%Y-%m-%d %H:%M UTC')
fi

# --- The runs ---------------------------------------------------------------------

mkdir -p "$out_dir/runs"
rm -f "$out_dir"/runs/*.out "$out_dir"/runs/*.err "$out_dir/runs/failures.txt"
runs=$out_dir/runs/runs.csv
: > "$runs"

# run_one WORKLOAD ALLOCATOR ROUND ORDER: one measured run, one line of runs.csv.
run_one() {
  local w=$1 a=$2 r=$3 order=$4
  local base=$out_dir/runs/$w.$a.$r
  local env=(-u LD_PRELOAD -u SEALPOOL_OPTIONS)
  [[ $a == glibc ]] || env+=(-e "LD_PRELOAD=${library[$a]}")
  [[ -z ${options[$a]:-} ]] || env+=(-e "SEALPOOL_OPTIONS=${options[$a]}")
  workload_command "$w"
  local line
  line=$("$measure" -t "$timeout" -o "$base.out" "${env[@]}" "${wenv[@]}" -- \
    "${cmd[@]}" 2>"$base.err") || true
  local elapsed=0 rss=0 user=0 sys=0 status=error kv
  for kv in $line; do
    case "$kv" in
      elapsed=*) elapsed=${kv#*=} ;;
      maxrss_kib=*) rss=${kv#*=} ;;
      user=*) user=${kv#*=} ;;
      sys=*) sys=${kv#*=} ;;
      status=*) status=${kv#*=} ;;
    esac
  done
  local sha
  sha=$(sha256sum "$base.out" 2>/dev/null | cut -d' ' -f1 || echo none)
  echo "$r,$w,$a,$order,$elapsed,$rss,$user,$sys,$status,$sha" >> "$runs"
  printf 'malloc_bench: round %d/%d  %-12s %-16s %8.3f s %8.1f MiB  %s\n' \
    "$r" "$rounds" "$w" "$a" "$elapsed" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
    "$([[ $status == 0 ]] && echo ok || echo "status $status")"
}

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
cpus=$(nproc)
kernel=$(uname -sr)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "${#workloads[@]} workloads x ${#allocators[@]} allocators (${allocators[*]})," \
  "$rounds round(s); load average $load_before"
SECONDS=0
n=${#allocators[@]}
for ((r = 1; r <= rounds; r++)); do
  for w in "${workloads[@]}"; do
    # Rotate the order from round to round, so that drift of the machine's
    # speed does not always favour the same allocator.
    for ((k = 0; k < n; k++)); do
      run_one "$w" "${allocators[$(((k + r - 1) % n))]}" "$r" "$((k + 1))"
    done
  done
done
elapsed=$SECONDS
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Verdicts, medians, tables ------------------------------------------------------

# Every run's output is compared with that of glibc's first successful run
# of the workload; a cell is FAIL when any of its runs failed or differed.
awk -F, -v workloads="${workloads[*]}" -v allocators="${allocators[*]}" \
  -v raw="$out_dir/raw.csv" -v time_md="$out_dir/time.md" \
  -v rss_md="$out_dir/rss.md" -v dat="$out_dir/ratios.dat" \
  -v failures="$out_dir/runs/failures.txt" -v timeout="$timeout" '
function median(list,    v, m, i, j, x) {
  m = split(list, v, " ")
  for (i = 2; i <= m; i++) {
    x = v[i] + 0
    for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]
    v[j + 1] = x
  }
  return m % 2 ? v[(m + 1) / 2] + 0 : (v[m / 2] + v[m / 2 + 1]) / 2
}
# table(FILE, WHAT, UNIT, FORMAT): one Markdown table of the medians.
function table(file, what, unit, fmt,    i, j, w, a, key, line, base, v, sum, cnt) {
  line = "| workload |"
  sep = "|---|"
  for (j = 1; j <= na; j++) { line = line " " al[j] " |"; sep = sep "---:|" }
  print line > file
  print sep > file
  for (j = 1; j <= na; j++) { lsum[j] = 0; lcnt[j] = 0 }
  for (i = 1; i <= nw; i++) {
    w = wl[i]
    line = "| " w " |"
    base = (w SUBSEP "glibc") in ok_cell ? med[what, w, "glibc"] : 0
    for (j = 1; j <= na; j++) {
      a = al[j]; key = w SUBSEP a
      if (!(key in runs_of)) { line = line " – |"; continue }
      if (!(key in ok_cell)) { line = line " FAIL |"; continue }
      v = med[what, w, a]
      if (a == "glibc" || base <= 0) {
        line = line " " sprintf(fmt, v) " " unit " |"
      } else {
        line = line " " sprintf(fmt, v) " " unit sprintf(" (%.2f)", v / base) " |"
      }
      if (base > 0 && v > 0) { lsum[j] += log(v / base); lcnt[j]++ }
    }
    print line > file
  }
  line = "| geometric mean of the ratios |"
  for (j = 1; j <= na; j++) {
    if (lcnt[j] == 0) { line = line " – |"; continue }
    line = line " " sprintf("%.2f", exp(lsum[j] / lcnt[j]))
    if (lcnt[j] < nw) line = line " (" lcnt[j] " of " nw ")"
    line = line " |"
  }
  print line > file
}
BEGIN {
  nw = split(workloads, wl, " ")
  na = split(allocators, al, " ")
}
# Pass 1: the reference output of each workload.
NR == FNR {
  if ($3 == "glibc" && $9 == "0" && (!($2 in ref_round) || $1 + 0 < ref_round[$2])) {
    ref[$2] = $10; ref_round[$2] = $1 + 0
  }
  next
}
# Pass 2: verdicts and samples.
FNR == 1 {
  print "round,workload,allocator,order,seconds,maxrss_kib,user_s,sys_s,status,output_sha256,verdict" > raw
}
{
  key = $2 SUBSEP $3
  if ($9 == "timeout") verdict = "killed after the " timeout "-s timeout"
  else if ($9 ~ /^signal/) verdict = $9
  else if ($9 != "0") verdict = "exit " $9
  else if (!($2 in ref)) verdict = "no reference"
  else if ($10 != ref[$2]) verdict = "output differs"
  else verdict = "ok"
  print $0 "," verdict > raw
  runs_of[key]++
  if (verdict == "ok") {
    t[key] = t[key] " " $5
    m[key] = m[key] " " ($6 / 1024)
  } else {
    bad[key]++
    print "round " $1 ": " $2 " under " $3 ": " verdict " (runs/" $2 "." $3 "." $1 ".err)" > failures
  }
}
END {
  for (key in runs_of) {
    if (bad[key] > 0) continue
    ok_cell[key] = 1
    split(key, parts, SUBSEP)
    med["time", parts[1], parts[2]] = median(t[key])
    med["rss", parts[1], parts[2]] = median(m[key])
  }
  table(time_md, "time", "s", "%.3f")
  for (j = 1; j <= na; j++) if (lcnt[j] > 0) gm_time[j] = exp(lsum[j] / lcnt[j])
  table(rss_md, "rss", "MiB", "%.1f")
  # Chart data: time ratios to glibc, "-" where there is none.
  line = "workload"
  for (j = 1; j <= na; j++) line = line " " al[j]
  print line > dat
  for (i = 1; i <= nw; i++) {
    w = wl[i]
    line = "\"" w "\""
    ok_base = (w SUBSEP "glibc") in ok_cell
    for (j = 1; j <= na; j++) {
      key = w SUBSEP al[j]
      if (ok_base && key in ok_cell && med["time", w, "glibc"] > 0)
        line = line " " sprintf("%.4f", med["time", w, al[j]] / med["time", w, "glibc"])
      else
        line = line " -"
    }
    print line > dat
  }
  line = "\"geometric mean\""
  for (j = 1; j <= na; j++) line = line " " (j in gm_time ? sprintf("%.4f", gm_time[j]) : "-")
  print line > dat
}' "$runs" "$runs"
failed=0
if [[ -s $out_dir/runs/failures.txt ]]; then
  failed=1
else
  rm -f "$out_dir/runs/failures.txt"
fi

# --- Chart --------------------------------------------------------------------------

chart=""
if command -v gnuplot >/dev/null; then
  declare -A colour=([glibc]='#9e9e9e' [jemalloc]='#4e79a7' [mimalloc]='#59a14f'
    [tcmalloc]='#edc948' [scudo]='#b07aa1' [sealpool]='#e15759'
    [sealpool-nocheck]='#ff9d9a')
  colours=""
  for a in "${allocators[@]}"; do colours+="${colours:+, }'${colour[$a]}'"; done
  gnuplot <<EOF_GP
set terminal svg size 1200,560 dynamic font 'sans,13' background rgb 'white'
set output '$out_dir/malloc.svg'
set datafile missing '-'
set title "Whole-process malloc workloads: median wall time relative to glibc ($rounds round(s); lower is better)" noenhanced
set ylabel 'ratio to glibc (log scale)'
set logscale y 2
set format y '%g'
set grid ytics lc rgb '#dddddd'
set xtics scale 0 noenhanced
set key outside right top vertical noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#555555'
set boxwidth 0.95
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb '#333333'
array colours[${#allocators[@]}] = [$colours]
plot for [i=2:$((${#allocators[@]} + 1))] '$out_dir/ratios.dat' using i:xtic(1) title columnheader(i) lc rgb colours[i-1]
EOF_GP
  chart=$out_dir/malloc.svg
else
  note "gnuplot is not installed; no chart (Debian package gnuplot-nox)"
fi

# --- Report -------------------------------------------------------------------------

versions=()
for a in "${allocators[@]}"; do
  [[ -n ${package[$a]:-} ]] || continue
  versions+=("$a $(dpkg-query -W -f='${Version}' "${package[$a]}" 2>/dev/null || echo '?')")
done
# The compiler and build type of the workloads, from the nearest CMakeCache.
cache=""
d=$wl_dir
for _ in 1 2 3 4 5; do
  if [[ -f $d/CMakeCache.txt ]]; then cache=$d/CMakeCache.txt; break; fi
  d=$d/..
done
compiler="?"
if [[ -n $cache ]]; then
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache")
  bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
  compiler="$("${cc:-cc}" --version 2>/dev/null | head -n 1), ${bt:-no build type}"
fi
describe() {
  case "$1" in
    churn) echo "1 thread: 8-512 B objects, LIFO temporaries, FIFO intermediates, long-lived table (cfrac/espresso-like)" ;;
    xmalloc) echo "2 producer threads malloc, 2 consumer threads free, batches through a queue (xmalloc-test-like)" ;;
    larson) echo "4 chains of slots, random free + malloc of 16-1024 B; each round a new thread takes over the slots (larson-like)" ;;
    realloc) echo "6 buffers at a time grown by realloc to 4 KiB-8 MiB, shrunk, regrown; contents verified" ;;
    glibc-thread) echo "2 threads, 1,024-object working sets, 4 B-32 KiB inverse-square sizes (glibc bench-malloc-thread-like)" ;;
    sqlite) echo "sqlite3 shell, in-memory database: 200,000 rows in 20 transactions, 2 indexes, updates, aggregate queries" ;;
    python) echo "CPython with PYTHONMALLOC=malloc: tuples and sorting, dicts and strings, JSON dumps/loads, object graph" ;;
  esac
}
{
  echo "# Whole-process malloc workloads"
  echo
  echo "Measured $started on ${cpu_model:-an unknown CPU}, $cpus CPUs ($kernel);"
  echo "load average $load_before before and $load_after after the ${elapsed}-s run."
  echo "Workloads built with: $compiler. Peers (Debian packages): ${versions[*]:-none}."
  [[ -z $sqlite3 ]] || echo "sqlite3: $sqlite3 $("$sqlite3" --version | cut -d' ' -f1)."
  [[ -z $python ]] || echo "python: $python ($("$python" --version 2>&1))."
  if [[ -n $sealpool_origin ]]; then
    echo "sealpool: $sealpool_origin (built $sealpool_date, sha256 $sealpool_sha…), run from a copy"
    echo "taken at the start, default options; sealpool-nocheck: the same with SEALPOOL_OPTIONS=check_libc=0."
  fi
  if [[ ${#skipped[@]} -gt 0 ]]; then echo "Not available, skipped: ${skipped[*]}."; fi
  if [[ ${#skipped_workloads[@]} -gt 0 ]]; then echo "Workloads skipped: ${skipped_workloads[*]}."; fi
  [[ $quick -eq 0 ]] || echo "**Quick run** (small sizes): a smoke test, not a measurement."
  echo
  echo "| workload | what it does (at the default size) |"
  echo "|---|---|"
  for w in "${workloads[@]}"; do echo "| $w | $(describe "$w") |"; done
  echo
  echo "Method: every run is a fresh process started by \`measure\` (fork, exec, wait4),"
  echo "the allocator swapped in with LD_PRELOAD (none for glibc); wall time from"
  echo "CLOCK_MONOTONIC around the run, peak RSS from ru_maxrss. $rounds round(s); in each,"
  echo "every workload runs once under every allocator, in an order rotated from round"
  echo "to round. Cells give the median of the rounds and, in brackets, the ratio to"
  echo "glibc; the last row is the geometric mean of a column's ratios. Every run's"
  echo "output must equal glibc's (each workload prints a checksum of what it read"
  echo "back); a cell with any failed or differing run reads FAIL. Lower is better."
  echo "Every run: raw.csv."
  echo
  echo "## Wall time"
  echo
  cat "$out_dir/time.md"
  echo
  echo "## Peak RSS"
  echo
  cat "$out_dir/rss.md"
  if [[ -n $chart ]]; then
    echo
    echo "![time relative to glibc](malloc.svg)"
  fi
  if [[ $failed -eq 1 ]]; then
    echo
    echo "## Failures"
    echo
    sed 's/^/- /' "$out_dir/runs/failures.txt"
  fi
} > "$out_dir/report.md"
cat "$out_dir/report.md"
note "report in $out_dir/report.md (${elapsed} s)"
if [[ $failed -eq 1 ]]; then
  note "some runs failed or printed other output than glibc's; see $out_dir/runs/failures.txt"
  exit 1
fi
