#!/usr/bin/env bash
# The whole-program stage: real Debian programs under sealpool-run.
#
#   tests/programs/run_programs.sh LAUNCHER
#
# LAUNCHER is the command that runs a program under the allocator, called as
# `LAUNCHER --log=FILE -- program args...` (normally
# build/release/tools/sealpool-run; split on white space, so it may carry
# options of its own). Each program runs twice, plainly and under LAUNCHER,
# each time in the same freshly made directory, and the two runs must agree:
# the same standard output, the same standard error (less the launcher's own
# `sealpool-run:` line), the same exit status of every command; the run under
# LAUNCHER must print no `sealpool: ` line and leave its JSON log empty.
# Covered: python3 (PYTHONMALLOC=malloc, workload.py), sqlite3
# (workload.sql), git (two commits with fixed identities and dates, log
# --stat, gc, fsck), gcc (compile_me.c, then the program it built), curl
# (file:// transfers), and redis-server with redis-benchmark and redis-cli
# (redis_commands.txt) against it. Prints one line per program; exits 1 on
# any failure, with the difference shown.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 LAUNCHER" >&2
  exit 2
fi
read -r -a launcher <<< "$1"
if [[ ${#launcher[@]} -eq 0 ]]; then
  echo "programs: empty LAUNCHER" >&2
  exit 2
fi
# The cases run in temporary directories: a launcher given by a relative
# path is made absolute first.
if [[ ${launcher[0]} == */* && ${launcher[0]} != /* ]]; then
  launcher[0]=$PWD/${launcher[0]}
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Debian's programs, not whatever shim comes first on PATH (a pyenv python3,
# say): /usr/bin when it has the program.
prog() {
  if [[ -x /usr/bin/$1 ]]; then
    echo "/usr/bin/$1"
  else
    command -v "$1" || echo "$1"
  fi
}
python3=$(prog python3)
sqlite3=$(prog sqlite3)
git=$(prog git)
gcc=$(prog gcc)
curl=$(prog curl)
redis_server=$(prog redis-server)
redis_cli=$(prog redis-cli)
redis_benchmark=$(prog redis-benchmark)

work=$(mktemp -d "${TMPDIR:-/tmp}/sealpool-programs.XXXXXX")
servers=()  # pids of the redis servers started, for the cleanup
cleanup() {
  local pid
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/logs" "$work/home"
ulimit -c 0

# A fixed environment for both runs: no user or system configuration, the
# same locale and time zone, a home directory of our own.
export HOME="$work/home" LC_ALL=C.UTF-8 TZ=UTC
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset SEALPOOL_OPTIONS LD_PRELOAD PYTHONMALLOC PYTHONSTARTUP

failures=0
per_command_timeout=90

# x COMMAND ARGS...: runs one command of a program's script, plainly or
# under the launcher (by $side), and records its exit status.
side=plain
log_seq=0
x() {
  local st
  if [[ $side == plain ]]; then
    timeout "$per_command_timeout" "$@"
    st=$?
  else
    log_seq=$((log_seq + 1))
    timeout "$per_command_timeout" "${launcher[@]}" \
      --log="$work/logs/$current.$BASHPID.$log_seq.json" -- "$@"
    st=$?
  fi
  echo "exit $st: ${*##*/}" >> "$work/$current.$side.status"
  return "$st"
}

# The lines of a launcher run's standard error that are sealpool reports.
report_lines() { grep -a '^sealpool: ' "$@"; }

# What the run under the launcher left in its JSON logs (the files of
# program $1), if anything.
nonempty_logs() {
  local f found=1
  for f in "$work/logs/$1".*; do
    [[ -s $f ]] || continue
    echo "--- $f"
    head -c 4000 "$f"
    echo
    found=0
  done
  return "$found"
}

fail() {
  echo "programs: $current FAILED: $1"
  failures=$((failures + 1))
}

# compare NAME: the checks between the plain run and the launcher run of
# program NAME, whose outputs are in $work/NAME.{plain,sealpool}.{out,err,
# status}. Prints the program's line.
compare() {
  local name=$1 ok=1
  local p="$work/$name.plain" s="$work/$name.sealpool"
  grep -v '^sealpool-run:' "$s.err" > "$s.err.filtered"
  if grep -qv '^exit 0:' "$p.status"; then
    fail "a command failed in the plain run (the test itself is broken):"
    grep -v '^exit 0:' "$p.status"; cat "$p.err"; ok=0
  fi
  if ! diff -u "$p.status" "$s.status" > "$work/diff"; then
    fail "exit statuses differ (plain vs under the launcher):"
    cat "$work/diff"; ok=0
  fi
  if report_lines "$s.err" > "$work/reports"; then
    fail "sealpool reports under the launcher:"
    cat "$s.err"; ok=0
  fi
  if ! diff -u "$p.out" "$s.out" > "$work/diff"; then
    fail "standard output differs (plain vs under the launcher):"
    head -n 200 "$work/diff"; ok=0
  fi
  if ! diff -u "$p.err" "$s.err.filtered" > "$work/diff"; then
    fail "standard error differs (plain vs under the launcher, less sealpool-run: lines):"
    head -n 200 "$work/diff"; ok=0
  fi
  if nonempty_logs "$name" > "$work/logtext"; then
    fail "the launcher's JSON log is not empty:"
    cat "$work/logtext"; ok=0
  fi
  if [[ $ok == 1 ]]; then
    echo "programs: $name ... ok ($(wc -l < "$p.out") lines of output compared)"
  fi
}

# run_both NAME FUNCTION: runs FUNCTION (a program's script, whose commands
# go through x) once plainly and once under the launcher, each time in a
# fresh $work/run, and compares the two.
run_both() {
  local name=$1 fn=$2
  current=$name
  for side in plain sealpool; do
    rm -rf "$work/run"
    mkdir "$work/run"
    : > "$work/$name.$side.status"
    ( cd "$work/run" && "$fn" ) > "$work/$name.$side.out" 2> "$work/$name.$side.err"
  done
  side=plain
  compare "$name"
}

# ---- python3 -------------------------------------------------------------

python_script() {
  PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 \
    x "$python3" -s "$here/workload.py"
  # The same interpreter from a pipe, reading and writing through stdio.
  printf 'import sys, json\nd = json.load(sys.stdin)\nprint(sorted(d), sum(d.values()))\n' > reader.py
  printf '{"a": 1, "b": 22, "c": 333, "%s": 4444}\n' "$(printf 'k%.0s' {1..500})" |
    PYTHONMALLOC=malloc x "$python3" -s reader.py
}

# ---- sqlite3 -------------------------------------------------------------

sqlite_script() {
  x "$sqlite3" -bail workload.db < "$here/workload.sql"
  # The database the first run wrote, read back by a second process.
  x "$sqlite3" -bail workload.db \
    "SELECT count(*), sum(quantity), sum(length(note)) FROM orders;" \
    "PRAGMA integrity_check;"
}

# ---- git -----------------------------------------------------------------

git_files() {
  local i
  mkdir -p src docs
  for i in $(seq 1 40); do
    printf 'int function_%d(int x) {\n  return x * %d + %d;\n}\n' "$i" "$i" $((i * i)) > "src/f$i.c"
  done
  printf '# repo\n\nA repository for the sealpool whole-program stage.\n' > README.md
  seq 1 20000 | sed 's/^/line /' > docs/big.txt
  head -c 65536 /dev/zero | tr '\0' 'q' > docs/blob.bin
}

git_script() {
  export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
  export GIT_COMMITTER_NAME="Charles Babbage" GIT_COMMITTER_EMAIL=charles@example.org
  export GIT_AUTHOR_DATE="2024-01-02T03:04:05 +0000" GIT_COMMITTER_DATE="2024-01-02T03:04:05 +0000"
  x "$git" init -q -b main repo
  cd repo || return
  x "$git" config gc.autoDetach false
  git_files
  x "$git" add .
  x "$git" commit -q -m "first commit: sources, docs, a blob"
  # Second commit: edits, a new file, a deletion, a rename.
  sed -i 's/line 1000$/line one thousand/' docs/big.txt
  printf 'int extra(void) { return 42; }\n' > src/extra.c
  rm src/f7.c
  x "$git" mv src/f8.c src/eight.c
  export GIT_AUTHOR_DATE="2024-02-03T04:05:06 +0000" GIT_COMMITTER_DATE="2024-02-03T04:05:06 +0000"
  x "$git" add -A
  x "$git" commit -q -m "second commit: edit, add, delete, rename"
  x "$git" log --stat
  x "$git" rev-parse HEAD HEAD~1 'HEAD^{tree}'
  x "$git" gc -q
  x "$git" fsck --full --strict --no-progress
  x "$git" log --oneline --name-status
  x "$git" diff --stat HEAD~1 HEAD
  x "$git" show HEAD:src/extra.c
  x "$git" cat-file -p HEAD
  x "$git" archive --format=tar -o ../archive.tar HEAD
  sha256sum ../archive.tar | cut -d' ' -f1
}

# ---- gcc -----------------------------------------------------------------

gcc_script() {
  cp "$here/compile_me.c" .
  x "$gcc" -O2 -Wall -Wextra -Werror -o compiled compile_me.c
  sha256sum compiled | cut -d' ' -f1
  x ./compiled
}

# ---- curl ----------------------------------------------------------------

curl_script() {
  seq 1 200000 > data.txt
  x "$curl" -sS -f "file://$PWD/data.txt" -o copy.txt
  cmp data.txt copy.txt && echo "copy identical"
  x "$curl" -sS -f -r 1000-1999 "file://$PWD/data.txt" | sha256sum | cut -d' ' -f1
  x "$curl" -sS -f "file://$PWD/data.txt" | tail -n 3
}

# ---- redis ---------------------------------------------------------------

free_port() {
  "$python3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready PORT PID: polls `redis-cli ping` until the server answers, for
# at most ~15 s, giving up at once if the server has exited.
wait_ready() {
  local port=$1 pid=$2 tries=0
  while (( tries < 300 )); do
    if [[ $("$redis_cli" -p "$port" ping 2>/dev/null) == PONG ]]; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    tries=$((tries + 1))
    sleep 0.05
  done
  return 1
}

# redis_side SIDE: starts a server (under the launcher for SIDE sealpool),
# waits for it, benchmarks it (sealpool side), runs the command sequence,
# shuts it down and waits for it. Outputs in $work/redis.SIDE.*.
redis_side() {
  side=$1
  local port pid st dir="$work/run"
  rm -rf "$dir"
  mkdir "$dir"
  : > "$work/redis.$side.status"
  port=$(free_port)
  local args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no
              --dir "$dir" --logfile "$dir/redis.log" --daemonize no)
  if [[ $side == plain ]]; then
    "$redis_server" "${args[@]}" > "$work/redis.$side.server.out" 2> "$work/redis.$side.server.err" &
  else
    "${launcher[@]}" --log="$work/logs/redis.server.json" -- \
      "$redis_server" "${args[@]}" > "$work/redis.$side.server.out" 2> "$work/redis.$side.server.err" &
  fi
  pid=$!
  servers+=("$pid")
  if ! wait_ready "$port" "$pid"; then
    fail "redis-server ($side) did not answer ping on port $port"
    cat "$work/redis.$side.server.err" "$dir/redis.log" 2>/dev/null | tail -n 40
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
  fi
  if [[ $side == sealpool ]]; then
    x "$redis_benchmark" -p "$port" -q -n 20000 -P 4 -t set,get,lpush,lpop \
      > "$work/redis.benchmark.out" 2> "$work/redis.benchmark.err"
    st=$?
    if [[ $st != 0 ]]; then
      fail "redis-benchmark exited with status $st"
      cat "$work/redis.benchmark.out" "$work/redis.benchmark.err"
    fi
    if report_lines "$work/redis.benchmark.err" > /dev/null; then
      fail "sealpool reports from redis-benchmark:"
      cat "$work/redis.benchmark.err"
    fi
  fi
  x "$redis_cli" -p "$port" < "$here/redis_commands.txt" \
    > "$work/redis.$side.out" 2> "$work/redis.$side.err"
  x "$redis_cli" -p "$port" shutdown nosave >> "$work/redis.$side.out" 2>> "$work/redis.$side.err"
  wait "$pid"
  st=$?
  echo "exit $st: redis-server" >> "$work/redis.$side.status"
  cp "$dir/redis.log" "$work/redis.$side.log" 2>/dev/null
}

redis_case() {
  current=redis
  redis_side plain || return
  redis_side sealpool || return
  side=plain
  local before=$failures
  # The benchmark ran on the launcher side only (its status is checked
  # above) and the ports differ: neither is part of the comparison.
  local f
  for f in "$work/redis.plain.status" "$work/redis.sealpool.status"; do
    grep -v ': redis-benchmark ' "$f" | sed -E 's/ -p [0-9]+/ -p PORT/' > "$f.tmp" && mv "$f.tmp" "$f"
  done
  cat "$work/redis.sealpool.server.err" >> "$work/redis.sealpool.err"
  cat "$work/redis.plain.server.err" >> "$work/redis.plain.err"
  if report_lines "$work/redis.sealpool.server.out" "$work/redis.sealpool.log" > /dev/null 2>&1; then
    fail "sealpool reports in redis-server's output or log:"
    report_lines "$work/redis.sealpool.server.out" "$work/redis.sealpool.log"
  fi
  compare redis > "$work/redis.compare"
  if [[ $failures == "$before" ]]; then
    echo "programs: redis ... ok (server, benchmark $(grep -c 'requests per second' "$work/redis.benchmark.out") tests, $(wc -l < "$work/redis.plain.out") lines of redis-cli output compared)"
  else
    grep -v '^programs: redis \.\.\. ok' "$work/redis.compare"
  fi
}

# ---- main ----------------------------------------------------------------

# Preflight: a program started by the launcher has the launcher's
# LD_PRELOAD libraries mapped (a launcher that quietly preloads nothing would
# make every comparison below pass for nothing).
preflight() {
  current=preflight
  local out lib missing=0 libs=()
  out=$("${launcher[@]}" --log="$work/logs/preflight.json" -- \
          /bin/sh -c 'echo "$LD_PRELOAD"; cat /proc/$$/maps' 2> "$work/preflight.err")
  read -r -a libs <<< "$(head -n 1 <<< "$out" | tr ':' ' ')"
  if [[ ${#libs[@]} == 0 ]]; then
    fail "the launcher set no LD_PRELOAD"
    cat "$work/preflight.err"
    return
  fi
  for lib in "${libs[@]}"; do
    if ! grep -qF "$(basename "$lib")" <<< "$(tail -n +2 <<< "$out")"; then
      fail "LD_PRELOAD names $lib, which the program does not have mapped"
      missing=1
    fi
  done
  [[ $missing == 0 ]] && echo "programs: preflight ... ok (preloaded: ${libs[*]##*/})"
}

start=$SECONDS
echo "programs: launcher ${launcher[*]}"
preflight
run_both python3 python_script
run_both sqlite3 sqlite_script
run_both git git_script
run_both gcc gcc_script
run_both curl curl_script
redis_case
echo "programs: $failures failure(s), $((SECONDS - start)) s"
[[ $failures == 0 ]]
