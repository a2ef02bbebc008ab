#!/usr/bin/env bash
# Soak: the native bench-server under 10,000 WebSocket + 500 long-polling clients for ten
# minutes, with room churn, acked echoes, a broadcast a second and 1% of clients dropping
# without a close and reconnecting (bench/soak/, the sio-soak driver). Not part of CI.
#
#   bench/soak.sh                                   # the full soak (~11 minutes)
#   bench/soak.sh --duration 30 --ws-clients 450 --polling-clients 50 \
#     --drop-after-min 5 --drop-after-max 15      # smoke run: 500 clients, drops within 30 s
#
# Arguments go to the driver (`bench/soak/target/release/sio-soak --help`).
# Environment:
#   NAME        result file stem (default "soak"): bench/results/NAME.json
#   SKIP_BUILD  1 = use what is already built
#
# Starts bench-server on a free loopback port (port 0: it prints the port it got), runs the
# driver with --server-pid so it can read the server's VmRSS, prints a summary, and stops
# only the server this script started. Exit status: the driver's (0 = targets met, 2 = not).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=${NAME:-soak}
RESULTS=$ROOT/bench/results
OUT=$RESULTS/$NAME.json
SERVER_BIN=$ROOT/target/release/bench-server
SOAK_DIR=$ROOT/bench/soak
SOAK_BIN=$SOAK_DIR/target/release/sio-soak
mkdir -p "$RESULTS"

log() { printf '[soak %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# 10,500 client sockets (plus the polling clients' second connection) and as many on the
# server side: far past the usual 1024 default. Both processes inherit this limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open-file limit $(ulimit -n)"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building bench-server and sio-soak (release)"
  (cd "$ROOT" && cargo build --release -p sio-test-apps --bin bench-server)
  (cd "$SOAK_DIR" && cargo build --release --locked)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sio-soak.XXXXXX")
SERVER_PID=
cleanup() {
  # Only the server this script started, by its pid.
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RUST_LOG=${RUST_LOG:-warn} "$SERVER_BIN" 0 > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
ADDR=
for _ in $(seq 100); do
  ADDR=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/server.out" 2>/dev/null | head -n1 || true)
  [[ -n $ADDR ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $ADDR ]]; then
  log "bench-server did not start:"; cat "$WORK/server.err" >&2
  exit 1
fi
log "bench-server pid $SERVER_PID on $ADDR"

status=0
"$SOAK_BIN" --addr "$ADDR" --server-pid "$SERVER_PID" --out "$OUT" "$@" > "$WORK/report.json" || status=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "bench-server exited during the soak:"; tail -n 20 "$WORK/server.err" >&2
  status=1
fi

python3 - "$WORK/report.json" <<'PY' || cat "$WORK/report.json"
import json, sys
r = json.load(open(sys.argv[1]))
c, a, b, m = r["connections"], r["acks"], r["broadcasts"], r["server_rss_kib"]
cfg = r["config"]
mib = lambda s: "?" if not s or s.get("rss_kib") is None else f'{s["rss_kib"] / 1024:.1f} MiB (t={s["at_s"]}s)'
print(f'soak: {cfg["ws_clients"]} websocket + {cfg["polling_clients"]} polling clients (+1 broadcaster), '
      f'{cfg["duration_s"]:g}s, {cfg["dropping_clients"]} dropping clients')
print(f'  connections held    start {c["held_at_start"]}  middle {c["held_at_middle"]}  end {c["held_at_end"]}'
      f'  (target {c["target"]}, min after ramp {c["min_held_after_ramp"]})')
print(f'  sessions            opened {c["sessions_opened"]}, dropped by the soak {c["dropped_by_soak"]}, '
      f'connect failures {c["connect_failures"]}')
print(f'  unexpected disconnects {r["unexpected_disconnects"]}')
print(f'  acks                sent {a["sent"]}, received {a["received"]}, lost {a["lost"]}, '
      f'abandoned by drops {a["abandoned_by_drops"]}, mean {a["mean_ms"]} ms, max {a["max_ms"]} ms')
print(f'  broadcasts          sent {b["sent"]}, received {b["received"]}, missed within a session {b["missed_within_a_session"]}')
print(f'  room messages       received {r["room_messages_received"]}')
print(f'  server RSS          start {mib(m["start"])}, middle {mib(m["middle"])}, end {mib(m["end"])}; '
      f'end vs middle {m["end_vs_middle_pct"]}%')
print(f'  targets             {"met" if r["pass"] else "NOT met"}: {r["targets"]}')
for e in r["error_samples"][:10]:
    print(f'  error: {e}')
PY
log "report: $OUT"
exit "$status"
