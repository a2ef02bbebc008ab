#!/usr/bin/env bash
# Side-by-side Socket.IO server benchmark: our bench-server, socketioxide (bench/peers/socketioxide)
# and Node socket.io 4 (bench/peers/node), driven by sio-bench.
#
#   bench/run.sh                  # REPS=3, full scenarios
#   REPS=5 bench/run.sh
#   QUICK=1 bench/run.sh          # small scenarios, REPS=1 unless given: a smoke test
#
# Environment:
#   REPS         repetitions; servers are interleaved inside each (default 3, QUICK: 1)
#   QUICK        1 = small scenarios
#   SERVERS      subset/order of "ours socketioxide node" (default: all three)
#   NAME         result file stem (default "latest", QUICK: "quick"): bench/results/NAME.{jsonl,md}
#   SIO_BENCH_SRC  sio-bench sources (default ../shared/tools/sio-bench beside the repository); built by
#                  bench/sio-bench.sh in a copy kept between runs
#   SKIP_BUILD   1 = use what is already built
#   PIN          1 (default, with 2 CPUs or more) = the server runs on every CPU but the last
#                and the drivers on the last (taskset); 0 = both wherever the kernel puts them
#
# Each repetition starts each server on a free loopback port (port 0: the server prints the
# port it got), warms it up with a few connects, reads VmRSS from /proc/PID/status, then runs
# connect, echo and broadcast with --server-pid, and stops the server (only the process this
# script started). Raw sio-bench summaries go to NAME.jsonl, one line per scenario, wrapped as
# {"server","rep","scenario","rss_before_kb","result"}; bench/report.py turns them into NAME.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then REPS=${REPS:-1}; NAME=${NAME:-quick}; else REPS=${REPS:-3}; NAME=${NAME:-latest}; fi
SERVERS=${SERVERS:-"ours socketioxide node"}
RESULTS=$BENCH/results
mkdir -p "$RESULTS"

if [[ $QUICK == 1 ]]; then
  CONNECT_N=200; CONNECT_BIG_N=500; ECHO_N=20; ECHO_M=200; BCAST_N=200; BCAST_M=50; RATE_M=20; POLL_N=20; POLL_M=20
else
  CONNECT_N=1000; CONNECT_BIG_N=5000; ECHO_N=100; ECHO_M=1000; BCAST_N=1000; BCAST_M=200; RATE_M=200; POLL_N=100; POLL_M=200
fi
BCAST_RATE=20
ECHO_BYTES=64
WARMUP_N=20
TIMEOUT=${TIMEOUT:-180}

# Pinned apart, the server and the load generator each keep their CPUs. Unpinned, each
# loopback send wakes the generator with the kernel's "sync" hint, which moves it onto the
# sending server's CPU while the other CPU idles: on 2 CPUs a broadcast at 20/s then
# measures the two sharing one core (a p99 of about 10 ms for every server), not the server.
CPUS=$(nproc)
PIN=${PIN:-$(( CPUS >= 2 ? 1 : 0 ))}
SERVER_ON=(); DRIVER_ON=()
if [[ $PIN == 1 ]]; then
  SERVER_ON=(taskset -c "0-$(( CPUS - 2 ))"); DRIVER_ON=(taskset -c "$(( CPUS - 1 ))")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sio-bench-run.XXXXXX")
SERVER_PID=
cleanup() {
  # Only the server this script started, by its pid.
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- build
OURS_BIN=$ROOT/target/release/bench-server
SX_DIR=$BENCH/peers/socketioxide
SX_BIN=$SX_DIR/target/release/socketioxide-bench-peer
NODE_DIR=$BENCH/peers/node
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building bench-server"
  (cd "$ROOT" && cargo build --release -p sio-test-apps --bin bench-server)
  log "building the socketioxide peer"
  (cd "$SX_DIR" && cargo build --release --locked)
  log "installing the long-polling driver"
  (cd "$BENCH/driver" && npm ci --no-audit --no-fund --loglevel=error) >&2
  log "installing the node peer"
  (cd "$NODE_DIR" && if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) >&2
fi

SIO_BENCH=$("$BENCH/sio-bench.sh")

server_cmd() {
  case $1 in
    ours) echo "$OURS_BIN 0" ;;
    socketioxide) echo "$SX_BIN 0" ;;
    node) echo "node $NODE_DIR/server.mjs 0" ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_server() { # name -> sets SERVER_PID, URL
  local out=$WORK/$1.out
  : > "$out"
  # shellcheck disable=SC2046
  RUST_LOG=${RUST_LOG:-warn} "${SERVER_ON[@]}" $(server_cmd "$1") > "$out" 2> "$WORK/$1.err" &
  SERVER_PID=$!
  URL=
  for _ in $(seq 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" 2>/dev/null | head -n1 || true)
    [[ -n $URL ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "$1 did not start:"; cat "$WORK/$1.err" >&2
  return 1
}

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# server, rep, scenario name, rss_before, driver args... -> one JSON line on stdout. The
# driver is sio-bench, or for "polling-echo" the Node client over long-polling
# (driver/polling-echo.mjs: sio-bench speaks WebSocket only).
run_scenario() {
  local server=$1 rep=$2 scenario=$3 rss0=$4; shift 4
  local result driver=("${DRIVER_ON[@]}" "$SIO_BENCH")
  [[ $scenario == polling-echo ]] && driver=("${DRIVER_ON[@]}" node "$BENCH/driver/polling-echo.mjs")
  if ! result=$("${driver[@]}" --url "$URL" --server-pid "$SERVER_PID" --timeout "$TIMEOUT" "$@" 2>>"$WORK/sio-bench.err"); then
    log "$server rep $rep $scenario: driver failed: $(tail -n1 "$WORK/sio-bench.err")"
    result='{"error":"driver failed"}'
  fi
  [[ -n $result ]] || result='{"error":"no output"}'
  printf '{"server":"%s","rep":%d,"scenario":"%s","rss_before_kb":%s,"result":%s}\n' \
    "$server" "$rep" "$scenario" "${rss0:-null}" "$result"
}

JSONL=$RESULTS/$NAME.jsonl
TMP_JSONL=$RESULTS/$NAME.jsonl.tmp
: > "$TMP_JSONL"
log "REPS=$REPS QUICK=$QUICK servers: $SERVERS"
for rep in $(seq 1 "$REPS"); do
  for server in $SERVERS; do
    start_server "$server"
    log "rep $rep/$REPS: $server (pid $SERVER_PID) on $URL"
    # Warm-up: runtime threads, allocator arenas, JIT; not recorded.
    "${DRIVER_ON[@]}" "$SIO_BENCH" --url "$URL" connect --clients "$WARMUP_N" > /dev/null 2>>"$WORK/sio-bench.err" || true
    sleep 0.5
    rss0=$(rss_kb "$SERVER_PID")
    run_scenario "$server" "$rep" connect "$rss0" connect --clients "$CONNECT_N" >> "$TMP_JSONL"
    sleep 0.5
    run_scenario "$server" "$rep" echo "$(rss_kb "$SERVER_PID")" \
      echo --clients "$ECHO_N" --messages "$ECHO_M" --bytes "$ECHO_BYTES" >> "$TMP_JSONL"
    sleep 0.5
    run_scenario "$server" "$rep" broadcast "$(rss_kb "$SERVER_PID")" \
      broadcast --clients "$BCAST_N" --messages "$BCAST_M" >> "$TMP_JSONL"
    sleep 0.5
    run_scenario "$server" "$rep" broadcast-20/s "$(rss_kb "$SERVER_PID")" \
      broadcast --clients "$BCAST_N" --messages "$RATE_M" --rate "$BCAST_RATE" >> "$TMP_JSONL"
    sleep 0.5
    run_scenario "$server" "$rep" polling-echo "$(rss_kb "$SERVER_PID")" \
      --clients "$POLL_N" --messages "$POLL_M" --bytes "$ECHO_BYTES" >> "$TMP_JSONL"
    sleep 0.5
    run_scenario "$server" "$rep" connect-5k "$(rss_kb "$SERVER_PID")" connect --clients "$CONNECT_BIG_N" >> "$TMP_JSONL"
    stop_server
    tail -n6 "$TMP_JSONL" | python3 "$BENCH/report.py" --brief >&2 || true
  done
done
mv "$TMP_JSONL" "$JSONL"

meta=$WORK/meta.json
python3 - "$meta" <<EOF
import json, platform, subprocess, sys, datetime, os
def sh(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd).stdout.strip().splitlines()[0]
    except Exception:
        return None
json.dump({
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "git": sh("git", "-C", "$ROOT", "describe", "--always", "--dirty"),
    "cpus": os.cpu_count(),
    "kernel": platform.release(),
    "rustc": sh("rustc", "--version"),
    "node": sh("node", "--version"),
    "socketioxide": sh("cargo", "pkgid", "-p", "socketioxide", cwd="$SX_DIR"),
    "socket.io": json.load(open("$NODE_DIR/node_modules/socket.io/package.json"))["version"],
    "reps": $REPS, "quick": $QUICK == 1,
    "pinned": "server on CPUs ${SERVER_ON[2]:-any}, drivers on CPU ${DRIVER_ON[2]:-any}" if $PIN == 1 else None,
    "params": {"connect": $CONNECT_N, "connect_big": $CONNECT_BIG_N, "echo": [$ECHO_N, $ECHO_M, $ECHO_BYTES], "broadcast": [$BCAST_N, $BCAST_M], "rate": [$BCAST_RATE, $RATE_M], "polling": [$POLL_N, $POLL_M]},
}, open(sys.argv[1], "w"))
EOF
python3 "$BENCH/report.py" --meta "$meta" "$JSONL" > "$RESULTS/$NAME.md"
cat "$RESULTS/$NAME.md"
log "wrote $JSONL and $RESULTS/$NAME.md"
