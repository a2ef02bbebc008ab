#!/usr/bin/env bash
# The AWS runtime's cost per inbound event (Redis round trips, Management API calls,
# handler time) and its binary sizes, with no AWS account: bench/driver/lambda.mjs.
# Writes bench/results/lambda.{jsonl,md} (QUICK=1: lambda-quick.*).
#
#   bench/lambda.sh
#   QUICK=1 bench/lambda.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v redis-server >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}
# The same pinned cargo-lambda as the tests (tests/run.sh), in the same venv.
[ -x "$ROOT/tests/lambda/.venv/bin/cargo-lambda" ] || python3 -m venv "$ROOT/tests/lambda/.venv"
"$ROOT/tests/lambda/.venv/bin/pip" install -q --disable-pip-version-check cargo-lambda==1.9.2
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  (cd "$ROOT" && cargo build --release -p sio-test-apps)
  (cd "$ROOT/tests" && npm ci --no-audit --no-fund --loglevel=error)
  (cd "$ROOT/bench/driver" && npm ci --no-audit --no-fund --loglevel=error)
fi
export CARGO_LAMBDA="$ROOT/tests/lambda/.venv/bin/cargo-lambda"
exec node "$ROOT/bench/driver/lambda.mjs"
