#!/usr/bin/env bash
# Builds the starter for all three runtimes and runs its test (test/lobby.test.mjs, npm
# socket.io-client) against each: natively, under workerd (the Worker through miniflare),
# and as Lambda functions behind the repository's stand-in for API Gateway
# (tests/lambda/serve.mjs, with a redis-server of its own). `wrangler deploy --dry-run`
# builds the Worker as a deployment would, offline, and `sam validate --lint` checks
# template.yaml. Installs what it needs on first use, as the repository's test command does.
#   bash examples/starter/check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
step() { printf '\n== starter: %s\n' "$*"; }
# The repository's build cache: the starter's dependencies are the workspace's.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

[ -d node_modules/socket.io-client ] || npm ci --no-audit --no-fund --loglevel=error
[ -d "$root/tests/node_modules/ws" ] || (cd "$root/tests" && npm ci --no-audit --no-fund --loglevel=error)
command -v redis-server >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}
venv="$root/tests/lambda/.venv"
[ -x "$venv/bin/cargo-lambda" ] && [ -x "$venv/bin/sam" ] || {
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check cargo-lambda==1.9.2 aws-sam-cli==1.170.0
}

step "build: native, Lambda, Worker"
cargo build --locked -p starter-native -p starter-lambda
EDGE_PROFILE=dev bash "$root/edge/build.sh" "$here/worker"

step "native"
STARTER_SERVER="$CARGO_TARGET_DIR/debug/starter --port 0" node --test test/

step "Cloudflare, under workerd"
STARTER_SERVER="node $root/tests/edge/serve.mjs --worker $here/worker --port 0" node --test test/

step "Cloudflare: wrangler deploy --dry-run builds it offline"
(
  source "$root/edge/tools.sh"
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  "$WRANGLER" deploy --dry-run --outdir "$out"
  ls "$out"/*.wasm
)

step "AWS Lambda, behind the stand-in for API Gateway"
STARTER_SERVER="node $root/tests/lambda/serve.mjs --bin $CARGO_TARGET_DIR/debug/starter-lambda --port 0" \
  CARGO_LAMBDA="$venv/bin/cargo-lambda" node --test test/

step "template.yaml"
SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --lint --region us-east-1 --template template.yaml
