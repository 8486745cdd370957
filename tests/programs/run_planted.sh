#!/usr/bin/env bash
# Planted bugs under sealpool-run: each found, named, and stopped before it
# exposes or corrupts anything; each one's legal neighbour left alone.
#
#   tests/programs/run_planted.sh LAUNCHER CC
#
# LAUNCHER is called as `LAUNCHER [--mode=report] --log=FILE -- program
# args...` (normally build/release/tools/sealpool-run); CC compiles the
# programs of tests/programs/planted/ with -O0 -g -Wall -Wextra -Werror.
# Both are split on white space. For every planted bug:
#   abort mode (the default): the program is killed by SIGABRT in the call;
#     its standard error has one report whose headline is the right one
#     (exposure for data going out of the heap object, overwrite for data
#     coming in), with the pool (malloc-N), the offset, the length and the
#     object's size, and an "object allocated at" line naming the function
#     that allocated the object; the JSON log has a record for that pool;
#   report mode: the same report, once; the call failed (read/write/send:
#     -1 and EFAULT; memcpy/strcpy: nothing copied, except that a refused
#     source leaves zeros in a valid destination); the program went on,
#     and the memory past the object and the sentinels allocated after it
#     are unchanged, or the peer received nothing;
# and for its legal neighbour (the same call with the right length, in
# abort mode): no report, exit 0, the right data.
# Prints one line per case; exits 1 on any failure.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 LAUNCHER CC" >&2
  exit 2
fi
read -r -a launcher <<< "$1"
read -r -a cc <<< "$2"
if [[ ${#launcher[@]} -eq 0 || ${#cc[@]} -eq 0 ]]; then
  echo "planted: empty LAUNCHER or CC" >&2
  exit 2
fi
# The cases run in temporary directories: a launcher given by a relative
# path is made absolute first.
if [[ ${launcher[0]} == */* && ${launcher[0]} != /* ]]; then
  launcher[0]=$PWD/${launcher[0]}
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/sealpool-planted.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/bin" "$work/run"
unset SEALPOOL_OPTIONS LD_PRELOAD
ulimit -c 0

failures=0
start=$SECONDS

programs=(heartbleed short_read strcpy_overflow realloc_stale)
for p in "${programs[@]}"; do
  if "${cc[@]}" -O0 -g -Wall -Wextra -Werror -o "$work/bin/$p" \
       "$here/planted/$p.c" > "$work/cc.out" 2>&1; then
    echo "planted: compile $p ok"
  else
    echo "planted: compile $p FAILED:"
    cat "$work/cc.out"
    failures=$((failures + 1))
  fi
done
if [[ $failures != 0 ]]; then
  echo "planted: $failures failure(s)"
  exit 1
fi

# ---- running a case and judging it ----------------------------------------

# run MODE PROGRAM ARGS...: runs the program under the launcher in $work/run,
# MODE abort (the default, no --mode) or report. Sets $out (standard output,
# also what the program's children printed: the command substitution waits
# for every writer), $err (standard error), $status and $log (the JSON log
# file).
case_seq=0
run() {
  local mode=$1
  shift
  case_seq=$((case_seq + 1))
  log="$work/case$case_seq.json"
  local mode_opt=()
  [[ $mode == report ]] && mode_opt=(--mode=report)
  out=$(cd "$work/run" && timeout 60 "${launcher[@]}" "${mode_opt[@]}" \
          --log="$log" -- "$work/bin/$1" "${@:2}" 2> "$work/err")
  status=$?
  err=$(cat "$work/err")
}

why=()
# expect_out REGEX: a whole line of standard output matches REGEX (ERE).
expect_out() {
  grep -Eqx -- "$1" <<< "$out" || why+=("no line of standard output matches /$1/")
}
# reject_out REGEX: no whole line of standard output matches REGEX.
reject_out() {
  if grep -Eqx -- "$1" <<< "$out"; then why+=("standard output has a line matching /$1/"); fi
}

# The lines of standard error that begin a sealpool report.
headlines() { grep -a '^sealpool: ' <<< "$err"; }

# expect_report DIRECTION LEN OBJECT_SIZE FUNCTIONS: exactly one report, its
# headline the one for DIRECTION (exposure or overwrite) of LEN bytes at
# offset 0 of an OBJECT_SIZE-byte object of a malloc-N pool, an "object
# allocated at" line naming one of FUNCTIONS (an ERE alternation), and a
# JSON log record for the same pool. Sets $pool.
expect_report() {
  local dir=$1 len=$2 size=$3 fns=$4 words
  case $dir in
    exposure) words="memory exposure attempt detected from" ;;
    overwrite) words="memory overwrite attempt detected to" ;;
  esac
  local n
  n=$(headlines | wc -l)
  if [[ $n != 1 ]]; then
    why+=("$n report headlines on standard error, expected 1")
  fi
  local re="sealpool: $words pool '(malloc-[0-9]+)' \\(object 0x[0-9a-f]+, offset 0, size $len, object size $size\\)!"
  local line
  line=$(headlines | grep -Ex -- "$re" | head -n 1)
  pool=
  if [[ -z $line ]]; then
    why+=("no headline matches /$re/")
  else
    [[ $line =~ $re ]] && pool=${BASH_REMATCH[1]}
  fi
  local site_re="    object allocated at 0x[0-9a-f]+ in ($fns)([ (].*)?"
  if ! grep -Eqx -- "$site_re" <<< "$err"; then
    why+=("no line of standard error matches /$site_re/")
  fi
  if [[ -n $pool ]]; then
    if [[ ! -s $log ]]; then
      why+=("the JSON log $log is empty or missing")
    elif ! grep -Fq "\"pool\":\"$pool\"" "$log"; then
      why+=("the JSON log has no record for pool $pool")
    fi
  fi
  if ! grep -q '^sealpool-run:' <<< "$err"; then
    why+=("no sealpool-run: line on standard error")
  fi
}

expect_no_report() {
  if headlines > /dev/null; then why+=("sealpool reported"); fi
  if [[ -s $log ]] && grep -q '"kind"' "$log"; then
    why+=("the JSON log has a record")
  fi
}

expect_abort() {
  if [[ $status != 134 ]]; then
    why+=("exit status $status, expected 134 (killed by SIGABRT)")
  fi
  reject_out 'done'
}

expect_exit0() {
  if [[ $status != 0 ]]; then why+=("exit status $status, expected 0"); fi
  expect_out 'done'
}

# verdict NAME: prints the case's line, and on failure the reasons and
# what the program printed.
verdict() {
  if [[ ${#why[@]} == 0 ]]; then
    echo "planted: $1 ... ok${pool:+ (pool $pool)}"
  else
    echo "planted: $1 ... FAILED"
    local w
    for w in "${why[@]}"; do echo "    $w"; done
    echo "    --- exit status $status; standard output:"
    sed 's/^/    | /' <<< "$out"
    echo "    --- standard error:"
    sed 's/^/    | /' <<< "$err"
    failures=$((failures + 1))
  fi
  why=()
  pool=
}

# ---- heartbleed: write and send of 4096 bytes from a 64-byte record -------

for call in write send; do
  run abort heartbleed "$call" 4096
  expect_abort
  expect_report exposure 4096 64 alloc_heartbeat_record
  expect_out "heartbeat: replying with 4096 bytes of a 64-byte record by $call"
  reject_out "$call: returned .*"
  expect_out 'peer: received 0 bytes'
  expect_out 'peer: secret not seen'
  verdict "heartbleed $call 4096 bytes of a 64-byte record, abort mode"

  run report heartbleed "$call" 4096
  expect_exit0
  expect_report exposure 4096 64 alloc_heartbeat_record
  expect_out "$call: returned -1 errno EFAULT"
  expect_out 'peer: received 0 bytes'
  expect_out 'peer: secret not seen'
  verdict "heartbleed $call 4096 bytes of a 64-byte record, report mode"

  run abort heartbleed "$call" 64
  expect_exit0
  expect_no_report
  expect_out "$call: returned 64 errno 0"
  expect_out 'peer: received 64 bytes'
  expect_out 'peer data: matches'
  expect_out 'peer: secret not seen'
  verdict "heartbleed $call 64 bytes of a 64-byte record (legal)"
done

# ---- short_read: read of 256 bytes into a 32-byte buffer ------------------

# The checks of report mode that nothing was written past the object.
expect_untouched_neighbours() {
  expect_out 'overflow range: [0-9]+ bytes, [0-9]+ unreadable, [0-9]+ changed, 0 hold the copied data'
  expect_out "sentinels: 16 intact, 0 changed, [0-9]+ within the overflow range"
}

run abort short_read 256
expect_abort
expect_report overwrite 256 32 alloc_packet_buffer
expect_out 'buffer 0x[0-9a-f]+: reading 256 bytes into a 32-byte buffer'
reject_out 'read: returned .*'
verdict "short_read 256 bytes into a 32-byte buffer, abort mode"

run report short_read 256
expect_exit0
expect_report overwrite 256 32 alloc_packet_buffer
expect_out 'read: returned -1 errno EFAULT'
expect_untouched_neighbours
expect_out 'buffer: matches'
expect_out 'pipe: 256 bytes still queued'
verdict "short_read 256 bytes into a 32-byte buffer, report mode"

run abort short_read 32
expect_exit0
expect_no_report
expect_out 'read: returned 32 errno 0'
expect_out 'overflow range: 0 bytes, 0 unreadable, 0 changed, 0 hold the copied data'
expect_out 'sentinels: 16 intact, 0 changed, 0 within the overflow range'
expect_out 'buffer: matches'
expect_out 'pipe: 224 bytes still queued'
verdict "short_read 32 bytes into a 32-byte buffer (legal)"

# ---- strcpy_overflow: 100 bytes into a 16-byte buffer ---------------------

run abort strcpy_overflow 99
expect_abort
expect_report overwrite 100 16 alloc_name_buffer
expect_out 'name 0x[0-9a-f]+: copying 100 bytes \(99 characters and the NUL\) into a 16-byte buffer'
reject_out 'strcpy: returned .*'
verdict "strcpy_overflow 100 bytes into a 16-byte buffer, abort mode"

run report strcpy_overflow 99
expect_exit0
expect_report overwrite 100 16 alloc_name_buffer
expect_untouched_neighbours
expect_out 'name: matches'
verdict "strcpy_overflow 100 bytes into a 16-byte buffer, report mode"

run abort strcpy_overflow 15
expect_exit0
expect_no_report
expect_out 'strcpy: returned the destination'
expect_out 'name: matches'
expect_out 'sentinels: 16 intact, 0 changed, 0 within the overflow range'
verdict "strcpy_overflow 16 bytes (15 characters and the NUL) into a 16-byte buffer (legal)"

# ---- realloc_stale: memcpy of the stale 4096 into / out of 64 bytes -------

# The shrunk object was allocated by realloc in shrink_session_buffer, from
# the buffer alloc_session_buffer allocated: either names the object.
realloc_sites='shrink_session_buffer|alloc_session_buffer'

run abort realloc_stale into 4096
expect_abort
expect_report overwrite 4096 64 "$realloc_sites"
expect_out 'session 0x[0-9a-f]+: 64 bytes \(remembered 4096\), copying 4096 bytes into it'
reject_out 'memcpy: returned .*'
verdict "realloc_stale memcpy of 4096 bytes into the 64 left after realloc, abort mode"

run report realloc_stale into 4096
expect_exit0
expect_report overwrite 4096 64 "$realloc_sites"
expect_untouched_neighbours
expect_out 'session: matches'
verdict "realloc_stale memcpy of 4096 bytes into the 64 left after realloc, report mode"

run abort realloc_stale into 64
expect_exit0
expect_no_report
expect_out 'memcpy: returned the destination'
expect_out 'session: matches'
expect_out 'sentinels: 16 intact, 0 changed, 0 within the overflow range'
verdict "realloc_stale memcpy of 64 bytes into the 64 left after realloc (legal)"

run abort realloc_stale out 4096
expect_abort
expect_report exposure 4096 64 "$realloc_sites"
expect_out 'session 0x[0-9a-f]+: 64 bytes \(remembered 4096\), copying 4096 bytes out of it'
reject_out 'memcpy: returned .*'
verdict "realloc_stale memcpy of 4096 bytes out of the 64 left after realloc, abort mode"

run report realloc_stale out 4096
expect_exit0
expect_report exposure 4096 64 "$realloc_sites"
# A refused source hands on no stale bytes: the valid destination gets
# zeros (README, "Whole programs").
expect_out 'destination: differs in [0-9]+ of 4096 bytes, now all zero'
verdict "realloc_stale memcpy of 4096 bytes out of the 64 left after realloc, report mode"

run abort realloc_stale out 64
expect_exit0
expect_no_report
expect_out 'memcpy: returned the destination'
expect_out 'copied out: matches'
expect_out 'rest of destination: matches'
verdict "realloc_stale memcpy of 64 bytes out of the 64 left after realloc (legal)"

echo "planted: $failures failure(s), $((SECONDS - start)) s"
[[ $failures == 0 ]]
