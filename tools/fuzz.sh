#!/usr/bin/env bash
# Builds the libFuzzer harnesses (the `fuzz` preset: clang, ASan + UBSan,
# coverage in the library) and runs them:
#   1. replays every committed seed corpus (fuzz/corpus/<fuzzer>/) and every
#      saved reproducer (fuzz/regressions/<fuzzer>/) as regression tests;
#   2. fuzzes each library fuzzer (pool_api, check_copy, options) for
#      SECONDS (default 30), one at a time, showing libFuzzer's progress
#      lines; a crash or a model mismatch is a failure;
#   3. checks that the host example's fuzzer (fuzz/host_example/) DOES find
#      the decoder's deliberate length-check mistake within a bounded time,
#      and that sealpool's report names the pool.
# Exits non-zero at the first failure. Run as root on Debian 12 (the setup
# step installs missing packages). The committed corpora are never written:
# new inputs go to a scratch corpus in the build directory.
#
# Usage: tools/fuzz.sh [SECONDS]
# Environment: SEALPOOL_FUZZ_BUILD_DIR (default build/fuzz).
set -euo pipefail

cd "$(dirname "$0")/.."

seconds=${1:-30}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "usage: tools/fuzz.sh [SECONDS]  (SECONDS: a positive integer)" >&2
  exit 2
fi
build=${SEALPOOL_FUZZ_BUILD_DIR:-build/fuzz}
library_fuzzers=(pool_api_fuzzer check_copy_fuzzer options_fuzzer alloc_family_fuzzer)
host_fuzzer=record_decoder_fuzzer
host_budget=120   # seconds the host example may take to find its bug
host_report="sealpool: memory exposure attempt detected from pool 'records'"

section() {
  printf '\n==== %s ====\n' "$*"
}

bash tools/setup.sh

section "fuzz: configure and build ($build)"
log_dir="$build/fuzz-logs"
mkdir -p "$log_dir"
if ! cmake --preset fuzz -B "$build" >"$log_dir/configure.log" 2>&1; then
  cat "$log_dir/configure.log" >&2
  exit 1
fi
if ! cmake --build "$build" -j 2 >"$log_dir/build.log" 2>&1; then
  tail -n 60 "$log_dir/build.log" >&2
  exit 1
fi
echo "built ${library_fuzzers[*]} $host_fuzzer"

# The binary of a fuzzer.
binary() {
  if [[ "$1" == "$host_fuzzer" ]]; then
    echo "$build/fuzz/host_example/$1"
  else
    echo "$build/fuzz/$1"
  fi
}

# Library fuzzers run sealpool in report mode, where every expected
# violation is also written to stderr; -close_fd_mask=2 sends the target's
# stderr to /dev/null while libFuzzer's lines, sanitizer reports and the
# harnesses' findings still reach the terminal.
common_flags=(-close_fd_mask=2 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1)
# While fuzzing, no leak check after each input: sealpool keeps per-thread
# caches and pool records across inputs by design, so nearly every input
# would trigger a full LeakSanitizer scan (two thirds of the run time). The
# replay stage keeps the per-input check.
fuzz_flags=(-detect_leaks=0)

# Shows the tail of a failed run's log and where its input was saved.
show_failure() {
  local name=$1 log=$2
  echo "---- $name failed; last lines of $log:" >&2
  grep -E '^Running: ' "$log" | tail -n 1 >&2 || true
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE)|NEW_FUNC|^Running: |^Executed ' "$log" |
    tail -n 40 >&2
  ls "$build"/fuzz-artifacts/"$name"-* 2>/dev/null | sed 's/^/saved input: /' >&2 || true
}

# --- 1. Regression replay ------------------------------------------------------
section "fuzz: replay the seed corpora and saved reproducers"
mkdir -p "$build/fuzz-artifacts"
for name in "${library_fuzzers[@]}"; do
  inputs=()
  for dir in "fuzz/corpus/$name" "fuzz/regressions/$name"; do
    if [[ -d "$dir" ]]; then
      while IFS= read -r -d '' f; do inputs+=("$f"); done \
        < <(find "$dir" -type f -print0 | sort -z)
    fi
  done
  if [[ ${#inputs[@]} -eq 0 ]]; then
    echo "$name: no committed inputs"
    continue
  fi
  log="$log_dir/$name.replay.log"
  if ! "$(binary "$name")" "${common_flags[@]}" \
      -artifact_prefix="$build/fuzz-artifacts/$name-" "${inputs[@]}" >"$log" 2>&1; then
    show_failure "$name" "$log"
    exit 1
  fi
  echo "$name: ${#inputs[@]} inputs replayed, all passed"
done

# --- 2. Fuzzing ------------------------------------------------------------------
for name in "${library_fuzzers[@]}"; do
  section "fuzz: $name for ${seconds}s"
  scratch="$build/fuzz-corpus/$name"
  mkdir -p "$scratch"
  log="$log_dir/$name.log"
  set +e
  "$(binary "$name")" "${common_flags[@]}" "${fuzz_flags[@]}" -max_total_time="$seconds" \
    -dict="fuzz/dict/$name.dict" -artifact_prefix="$build/fuzz-artifacts/$name-" \
    "$scratch" "fuzz/corpus/$name" 2>&1 | tee "$log" |
    grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|^Done|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|finding|ERROR|SUMMARY'
  rc=${PIPESTATUS[0]}
  set -e
  if [[ $rc -ne 0 ]]; then
    show_failure "$name" "$log"
    exit 1
  fi
done

# --- 3. The host example must find its bug ----------------------------------------
section "fuzz: $host_fuzzer must find the decoder's mistake (at most ${host_budget}s)"
scratch="$build/fuzz-corpus/$host_fuzzer"
rm -rf "$scratch"
mkdir -p "$scratch"
rm -f "$build"/fuzz-artifacts/"$host_fuzzer"-*
log="$log_dir/$host_fuzzer.log"
start=$SECONDS
set +e
"$(binary "$host_fuzzer")" -max_total_time="$host_budget" -timeout=30 \
  -dict="fuzz/dict/$host_fuzzer.dict" -artifact_prefix="$build/fuzz-artifacts/$host_fuzzer-" \
  "$scratch" "fuzz/corpus/$host_fuzzer" >"$log" 2>&1
rc=$?
set -e
elapsed=$((SECONDS - start))
if [[ $rc -eq 0 ]]; then
  echo "$host_fuzzer: the decoder's mistake was NOT found within ${host_budget}s" >&2
  exit 1
fi
if ! grep -q -F "$host_report" "$log"; then
  echo "$host_fuzzer: crashed, but without sealpool's report naming pool 'records':" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
grep -m1 -A1 -F "$host_report" "$log"
echo "$host_fuzzer: found in ${elapsed}s; input saved as $(ls "$build"/fuzz-artifacts/"$host_fuzzer"-*)"

section "fuzz: all stages passed"
