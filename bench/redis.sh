#!/usr/bin/env bash
# The Redis store's cost: round trips per event, and two processes on Redis against one in
# memory under sio-bench. Writes bench/results/redis.{jsonl,md} (QUICK=1: redis-quick.*).
#
#   bench/redis.sh            # REPS=3
#   QUICK=1 bench/redis.sh    # small runs, 1 repetition
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v redis-server >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  (cd "$ROOT" && cargo build --release -p sio-test-apps --bin bench-server)
  (cd "$ROOT/bench/driver" && npm ci --no-audit --no-fund --loglevel=error)
fi
SIO_BENCH=$("$ROOT/bench/sio-bench.sh")
export SIO_BENCH
exec node "$ROOT/bench/driver/redis.mjs"
